"""Imports into drafts: an edited sheet of policy (the policy matrix, firearm bindings, KPI tool bindings)
never touches the live rows it lists. Published versions never change, so the changes are written as ONE
draft per changed connector, owned by the importing user in the chosen tenant, through the draft
services (which check that the user may create drafts in that tenant, PRODUCT.md section 10): the
user's open draft of that connector in that tenant is updated (draft_update, a new revision), otherwise
a draft is created from the live version (draft_create: next patch version, today's bindings) at stage
`scoping` (the live version is its definition), then moved on to `policy` with the new decisions, as
staff would; someone moves it on to `verification`, validates and publishes it. An open draft keeps its
stage.

A row is compared with what it would change: the open draft's policy when the draft has the row's
scope (so changing a cell back to the live value still reaches the draft), else the live bindings. A
scope the open draft's spec no longer has is compared with live (the draft cannot take a decision for
it: changing it is an error). A row naming a connector or a scope that is not in the latest published
version is an error. What the rows refer to (connectors, scopes, bindings, open drafts, firearms, KPIs)
is read once per file, in chunks of 500 connectors, never once per row.
"""

import copy

from django.core.exceptions import ValidationError
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from policies.models import Firearm
from registries.models import Connector
from workbench.kit.exchange.importing import TsvImportResource
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import tenants_of
from workbench.selectors.policy_matrix import latest_scopes_with_firearms
from workbench.services.drafts import draft_create, draft_update

#: The stage an import's new draft starts at (draft_create takes definition or the one after it).
IMPORT_STAGE = WorkbenchDraft.Stage.SCOPING
#: The stage a new draft is moved on to with the imported decisions.
DECISIONS_STAGE = WorkbenchDraft.Stage.POLICY
LOOKUP_CHUNK = 500
#: the decision of a scope the open draft has but has not decided yet (exported as an empty cell)
UNDECIDED = ""


class LatestScopeLoader(BaseInstanceLoader):
    """The latest published scopes of every connector the file names, each prepared by the resource with
    what its rows are compared with (`prepare_scopes`), read once per 500 connectors."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        rows = dataset.dict if dataset else []
        names = sorted({resource.scope_key(row)[0] for row in rows} - {""})
        self.scopes, self.versions = {}, {}
        for start in range(0, len(names), LOOKUP_CHUNK):
            chunk = names[start:start + LOOKUP_CHUNK]
            connectors = Connector.objects.filter(connector_id__in=chunk)
            self.versions.update(connectors.values_list("connector_id", "latest_spec__version"))
            scopes = list(
                latest_scopes_with_firearms().filter(connector__connector_id__in=chunk).select_related("connector")
            )
            drafts = resource.open_drafts(chunk)
            for scope in scopes:
                scope.connector_id_text = scope.connector.connector_id
                scope.draft = drafts.get(scope.connector_id_text)
                scope.in_draft = scope.draft is not None and scope.name in draft_scope_names(
                    scope.draft.spec_snapshot
                )
                self.scopes[(scope.connector_id_text, scope.name)] = scope
            resource.prepare_scopes(scopes)

    def get_instance(self, row):
        return self.scopes.get(self.resource.scope_key(row))


class DraftImportResource(TsvImportResource):
    """Base of the imports that write drafts: rows name a scope of a live connector (`scope_key`), each
    row's change is collected per connector (`collect`), and after the last row every changed connector
    gets its draft (`write_draft`). Subclasses say how a row names its scope and what it changes."""

    needs_tenant = True
    #: ("firearm decision", "firearm decisions"): what the notes count
    change_noun = ("change", "changes")
    #: the columns naming the connector and the scope, for the errors of a row naming neither
    connector_column = "connector_id"
    scope_column = "scope"

    class Meta(TsvImportResource.Meta):  # import-export reads Meta options one base deep only
        instance_loader_class = LatestScopeLoader
        # No live row is saved: "bulk" only spares each row its savepoint (a statement per row).
        use_bulk = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.firearms = {}  # connector_id -> {scope: firearm id or None}
        self.kpis = {}  # connector_id -> {scope: [kpi id, ...]}
        self.drafts = []  # (draft, "created" | "updated" | "unchanged") after a run
        self._open_drafts = {}  # connector_id -> the open draft the rows were compared with

    def writes_model(self):
        # An import into drafts never touches the live rows it lists: it writes drafts.
        return WorkbenchDraft

    # -- what subclasses say ----------------------------------------------------------------------

    def scope_key(self, row):
        """(connector_id, scope) a row is about; ("", "") when it names none."""
        return (str(row.get("connector_id") or "").strip(), str(row.get("scope") or "").strip())

    def prepare_scopes(self, scopes):
        """Set, on each loaded scope, what its rows are compared with (one chunk of connectors)."""

    def changed_count(self, connector_id):
        return len(self.firearms.get(connector_id, ())) + len(self.kpis.get(connector_id, ()))

    # -- reading ------------------------------------------------------------------------------------

    def open_drafts(self, connector_ids):
        """{connector_id: the importer's open draft in the tenant} for those that have one."""
        drafts = {}
        for draft in open_drafts(user=self.user, tenant=self.tenant, connector_ids=connector_ids):
            drafts.setdefault(draft.connector_id, draft)
        self._open_drafts.update(drafts)
        return drafts

    def precondition_problem(self):
        if self.tenant is None:
            return "Choose the tenant the drafts of this import belong to."
        if self.user is None or not tenants_of(self.user, writable=True).filter(pk=self.tenant.pk).exists():
            return (
                f"You can create drafts only in tenants where you are an owner or editor, not {self.tenant}."
            )
        return None

    def live_scope(self, instance_loader, row):
        """The loaded scope the row names, or a ValidationError naming what is missing."""
        scope = instance_loader.get_instance(row)
        if scope is not None:
            return scope
        connector_id, name = self.scope_key(row)
        if connector_id not in instance_loader.versions:
            raise ValidationError({self.connector_column: f"No connector {connector_id!r}."})
        version = instance_loader.versions[connector_id]
        if version is None:
            raise ValidationError(
                {self.connector_column: f"Connector {connector_id!r} has no published version."}
            )
        message = f"Version {version} of {connector_id} has no scope {name!r} (scopes change in a draft)."
        raise ValidationError({self.scope_column: message})

    # -- writing ------------------------------------------------------------------------------------

    def save_m2m(self, instance, row, **kwargs):
        pass

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors():
            return
        dry_run = kwargs.get("dry_run", False)
        # The drafts and notes are kept only once every connector's draft is written: when a later one
        # is refused (a 412 race, a 403), everything is rolled back, so "created draft ..." of the
        # earlier ones would report drafts that do not exist.
        drafts, notes = [], []
        for connector_id in sorted(set(self.firearms) | set(self.kpis) | set(self._open_drafts)):
            count = self.changed_count(connector_id)
            if not count:
                # Every row of the connector equals the open draft: nothing to write, but say which
                # draft "unchanged" was measured against.
                draft, what = self._open_drafts[connector_id], "unchanged"
            else:
                draft, what = write_draft(
                    user=self.user, tenant=self.tenant, connector_id=connector_id,
                    firearms=self.firearms.get(connector_id), kpis=self.kpis.get(connector_id),
                    reason=self.change_reason(),
                )
            if what == "unchanged" and count:
                # The draft got these decisions after the rows were compared with it: nothing was
                # written, so the rows are not changes.
                count_unchanged(result, connector_id)
            drafts.append((draft, what))
            notes.append(self.note(draft, what, count, dry_run=dry_run))
        self.drafts.extend(drafts)
        self.notes.extend(notes)

    def note(self, draft, what, count, *, dry_run):
        """'created draft draft_1a2b of github 1.2.1 in acme (1 firearm decision)'"""
        if what == "unchanged":
            return f"draft {draft.pk} of {draft.connector_id} already has these decisions"
        decisions = f"{count} {self.change_noun[0] if count == 1 else self.change_noun[1]}"
        subject = f"{draft.connector_id} {draft.version} in {self.tenant} ({decisions})"
        if not dry_run:
            return f"{what} draft {draft.pk} of {subject}"
        if what == "created":
            return f"would create a draft of {subject}"
        return f"would update draft {draft.pk} of {subject}"


def count_unchanged(result, connector_id):
    """Count the connector's new and updated rows as unchanged (its draft already had them)."""
    changed = (RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_NEW)
    for row in result.rows:
        instance = row.instance
        if row.import_type in changed and getattr(instance, "connector_id_text", None) == connector_id:
            result.totals[row.import_type] -= 1
            row.import_type = RowResult.IMPORT_TYPE_SKIP
            result.totals[row.import_type] += 1


def draft_policy(draft):
    """The draft's policy snapshot as dicts, whatever was stored."""
    policy = draft.policy_snapshot if isinstance(draft.policy_snapshot, dict) else {}
    firearms = policy.get("firearms") if isinstance(policy.get("firearms"), dict) else {}
    kpis = policy.get("kpis") if isinstance(policy.get("kpis"), dict) else {}
    return firearms, kpis


def draft_scope_names(spec):
    scopes = spec.get("scopes") if isinstance(spec, dict) else None
    return {scope.get("name") for scope in scopes or [] if isinstance(scope, dict)}


def open_drafts(*, user, tenant, connector_ids):
    """The user's open drafts of those connectors in `tenant`, each connector's most recently revised
    first: the first is the one an import updates."""
    return WorkbenchDraft.objects.filter(
        tenant=tenant, owner=user, connector_id__in=connector_ids, status=WorkbenchDraft.Status.DRAFT
    ).order_by("connector_id", "-revised_at", "-created_at")


def _with_changes(policy, firearms, kpis):
    policy = copy.deepcopy(policy) if isinstance(policy, dict) else {}
    draft_firearms = policy.get("firearms") if isinstance(policy.get("firearms"), dict) else {}
    draft_kpis = policy.get("kpis") if isinstance(policy.get("kpis"), dict) else {}
    draft_firearms.update(firearms)
    for scope, kpi_ids in kpis.items():
        if kpi_ids:
            draft_kpis[scope] = sorted(kpi_ids)
        else:
            draft_kpis.pop(scope, None)
    policy["firearms"], policy["kpis"] = draft_firearms, draft_kpis
    return policy


def write_draft(*, user, tenant, connector_id, reason, firearms=None, kpis=None):
    """Put `firearms` ({scope: firearm id or None}) and `kpis` ({scope: [kpi id, ...]}, the scope's
    whole list) into the user's open draft of the connector in `tenant`, or into a new draft started
    from the live version. Returns (draft, what happened). The draft services check that the user may
    create and change drafts in `tenant` (403 otherwise)."""
    firearms, kpis = dict(firearms or {}), dict(kpis or {})
    draft = open_drafts(user=user, tenant=tenant, connector_ids=[connector_id]).first()
    if draft is None:
        draft = draft_create(
            tenant=tenant, user=user, connector_id=connector_id, stage=IMPORT_STAGE,
            reason=f"{reason}: started from the live version",
        )
        draft = draft_update(
            draft_id=draft.pk, user=user, base_revision=draft.revision,
            changes={"stage": DECISIONS_STAGE, "policy_snapshot": _with_changes(draft.policy_snapshot,
                                                                                 firearms, kpis)},
            reason=reason,
        )
        return draft, "created"
    named = set(firearms) | set(kpis)
    missing = sorted(name for name in named if name not in draft_scope_names(draft.spec_snapshot))
    if missing:
        raise ValidationError(
            f"Your open draft {draft.pk} of {connector_id} has no scope {', '.join(missing)}; "
            "add the scope to the draft or abandon it, then import again."
        )
    draft_firearms, draft_kpis = draft_policy(draft)
    missing_value = object()
    same_firearms = all(draft_firearms.get(name, missing_value) == value for name, value in firearms.items())
    same_kpis = all(sorted(draft_kpis.get(name) or []) == sorted(value) for name, value in kpis.items())
    if same_firearms and same_kpis:
        return draft, "unchanged"
    draft = draft_update(
        draft_id=draft.pk, user=user, base_revision=draft.revision,
        changes={"policy_snapshot": _with_changes(draft.policy_snapshot, firearms, kpis)}, reason=reason,
    )
    return draft, "updated"


class FirearmDecisionImport(DraftImportResource):
    """Rows that decide a scope's firearm (a firearm id, or NONE): the policy matrix and the firearm
    bindings. The instance of a row is the live scope with `firearm_decision`, what the row is compared
    with; a known firearm is checked against the firearms read once for the file."""

    change_noun = ("firearm decision", "firearm decisions")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._firearms = None

    def known_firearms(self):
        if self._firearms is None:
            self._firearms = set(Firearm.objects.values_list("firearm_id", flat=True))
        return self._firearms

    def prepare_scopes(self, scopes):
        for scope in scopes:
            scope.firearm_decision = draft_decision(scope)

    def get_instance(self, instance_loader, row):
        self._refuse_repeats(row)
        return self.live_scope(instance_loader, row)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        decision = instance.firearm_decision
        unknown = decision is not None and decision not in self.known_firearms()
        if unknown and "firearm_decision" not in errors:
            errors["firearm_decision"] = [f"No firearm {decision!r}."]
        errors.update(self.row_problems(instance, row))
        if errors:
            raise ValidationError(errors)

    def row_problems(self, instance, row):
        """{attribute: [message]} of what else is wrong with the row."""
        return {}

    def save_instance(self, instance, is_create, row, **kwargs):
        # Published scopes never change: the decision goes to the connector's draft after the last row.
        decisions = self.firearms.setdefault(instance.connector_id_text, {})
        decisions[instance.name] = instance.firearm_decision


def draft_decision(scope):
    """What a row of `scope` is compared with: the open draft's decision (UNDECIDED when the draft has
    the scope but no decision for it), or the live one without a draft or when the draft dropped the
    scope."""
    if not scope.in_draft:
        return scope.bound_firearm_id
    firearms, _ = draft_policy(scope.draft)
    return firearms.get(scope.name, UNDECIDED)
