"""Imports into drafts: an edited sheet of policy (the policy matrix, firearm bindings, KPI tool bindings)
never touches the live rows it lists. Published versions never change, so the changes are written as ONE
draft per changed connector, owned by the importing user in the chosen tenant, through the draft
service draft_import_decisions (which checks, as draft_create and draft_update do, that the user may
create drafts in that tenant, PRODUCT.md section 10): the user's open draft of that connector in that
tenant is updated (a new revision), otherwise a draft is created from the live version (next patch
version, today's bindings) at stage `scoping` (the live version is its definition), then moved on to
`policy` with the new decisions, as staff would; someone moves it on to `verification`, validates and
publishes it. An open draft keeps its stage. The drafts are written in bulk, a few statements per 500
connectors.

A row is compared with what it would change: the open draft's policy when the draft has the row's
scope (so changing a cell back to the live value still reaches the draft), else the live bindings. A
scope the open draft's spec no longer has is compared with live (the draft cannot take a decision for
it: changing it is an error). A row naming a connector or a scope that is not in the latest published
version is an error. What the rows refer to (connectors, scopes, bindings, open drafts, firearms, KPIs)
is read once per file, in chunks of 500 connectors, never once per row.
"""

import copy

from django.core.exceptions import ValidationError
from django.db.models import F
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from policies.models import Firearm
from registries.models import Connector
from workbench.kit.exchange.importing import TsvImportResource
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import tenants_of
from workbench.selectors.policy_matrix import latest_scopes_with_firearms
from workbench.services.drafts.decisions import (
    draft_import_decisions,
    draft_policy,
    draft_scope_names,
    open_drafts,
)

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
            connectors = {
                connector.pk: connector
                for connector in Connector.objects.filter(connector_id__in=chunk).annotate(
                    latest_version=F("latest_spec__version")
                )
            }
            self.versions.update((c.connector_id, c.latest_version) for c in connectors.values())
            # Only what the rows read of a scope (its tools are not compared): one connector object
            # per connector, shared by its scopes, rather than one joined copy per row.
            scopes = list(
                latest_scopes_with_firearms()
                .filter(connector__connector_id__in=chunk)
                .only("id", "spec_id", "connector_id", "name")
            )
            drafts = resource.open_drafts(chunk)
            draft_scopes = {
                connector_id: draft_scope_names(draft.spec_snapshot) for connector_id, draft in drafts.items()
            }
            for scope in scopes:
                scope.connector = connectors[scope.connector_id]
                scope.connector_id_text = scope.connector.connector_id
                scope.draft = drafts.get(scope.connector_id_text)
                in_draft = scope.draft is not None and scope.name in draft_scopes[scope.connector_id_text]
                scope.in_draft = in_draft
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
        # import-export's diff deep-copies every row's instance (with the open draft it was compared
        # with) and exports it twice; a row here changes one plain attribute, so its value before the
        # row is read (`after_init_instance`) is enough for skip_row and the report's original.
        skip_diff = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.firearms = {}  # connector_id -> {scope: firearm id or None}
        self.kpis = {}  # connector_id -> {scope: [kpi id, ...]}
        self.drafts = []  # (draft, "created" | "updated" | "unchanged") after a run
        self._open_drafts = {}  # connector_id -> the open draft the rows were compared with
        self._import_fields = self._read_fields = None
        self._before = []  # the current row's values of _read_fields before the row was read

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

    # -- the row's original (skip_diff) -------------------------------------------------------------

    def get_import_fields(self):
        # import-export asks for them on every row; they do not change during an import.
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
            self._read_fields = [field for field in self._import_fields if not field.readonly]
        return self._import_fields

    def after_init_instance(self, instance, new, row, **kwargs):
        # What the row can change (a readonly column never sets its attribute; the others set one
        # plain attribute each), before the row is read into the instance.
        self.get_import_fields()
        self._before = [field.get_value(instance) for field in self._read_fields]

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # import-export's own test (skip_unchanged: every import field as it was), without its copy.
        if import_validation_errors:
            return False
        after = [field.get_value(instance) for field in self._read_fields]
        return after == self._before

    def after_import_row(self, row, row_result, **kwargs):
        if row_result.import_type == RowResult.IMPORT_TYPE_UPDATE:
            original = copy.copy(row_result.instance)
            for field, value in zip(self._read_fields, self._before, strict=True):
                setattr(original, field.attribute, value)
            row_result.original = original

    # -- writing ------------------------------------------------------------------------------------

    def save_m2m(self, instance, row, **kwargs):
        pass

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors():
            return
        dry_run = kwargs.get("dry_run", False)
        changed = sorted(c for c in set(self.firearms) | set(self.kpis) if self.changed_count(c))
        written = draft_import_decisions(
            user=self.user, tenant=self.tenant, reason=self.change_reason(),
            decisions={c: (self.firearms.get(c), self.kpis.get(c)) for c in changed},
        )
        # The drafts and notes are kept only once every connector's draft is written: when a later one
        # is refused (a 403, a draft the model refuses), everything is rolled back, so "created draft
        # ..." of the earlier ones would report drafts that do not exist.
        drafts, notes, unchanged = [], [], set()
        for connector_id in sorted(set(self.firearms) | set(self.kpis) | set(self._open_drafts)):
            count = self.changed_count(connector_id)
            if not count:
                # Every row of the connector equals the open draft: nothing to write, but say which
                # draft "unchanged" was measured against.
                draft, what = self._open_drafts[connector_id], "unchanged"
            else:
                draft, what = written[connector_id]
            if what == "unchanged" and count:
                # The draft got these decisions after the rows were compared with it: nothing was
                # written, so the rows are not changes.
                unchanged.add(connector_id)
            drafts.append((draft, what))
            notes.append(self.draft_note(draft, what, count, dry_run=dry_run))
        count_unchanged(result, unchanged)
        self.drafts.extend(drafts)
        self.notes.extend(notes)
        # Which draft each note is about, so the admin's messages can link to it.
        result.draft_notes = {
            **getattr(result, "draft_notes", {}),
            **{note: draft.pk for note, (draft, _) in zip(notes, drafts, strict=True)},
        }

    def draft_note(self, draft, what, count, *, dry_run):
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


def count_unchanged(result, connector_ids):
    """Count the connectors' new and updated rows as unchanged (their drafts already had them)."""
    if not connector_ids:
        return
    changed = (RowResult.IMPORT_TYPE_UPDATE, RowResult.IMPORT_TYPE_NEW)
    for row in result.rows:
        instance = row.instance
        if row.import_type in changed and getattr(instance, "connector_id_text", None) in connector_ids:
            result.totals[row.import_type] -= 1
            row.import_type = RowResult.IMPORT_TYPE_SKIP
            result.totals[row.import_type] += 1


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
