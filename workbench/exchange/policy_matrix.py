"""Policy matrix: one row per scope of each connector's latest published version (PRODUCT.md section 6).

Export: connector_id, scope, firearm_id (the firearm a FirearmBinding puts on `<connector_id>:<scope>`,
or NONE), strategy_lock (TRUE when a strategy lock *policy* covers the scope's action, its connector
or its firearm, engaged right now or not: the matrix says what policy applies to a scope, like the
firearm column, not today's operational state, which the admin and the dashboard show).

Import (the Google Sheets round trip): published versions never change, so an edited matrix does not
touch the live registry. The changes are written as ONE draft per connector, owned by the importing
user in the chosen tenant, through the draft services: the user's open draft of that connector in that
tenant is updated (draft_update, a new revision), otherwise a draft is created from the live version
(draft_create: next patch version, today's bindings) with the new decisions, at stage `verification`,
ready to be validated and published. A row is a change when its firearm_id differs from what it would
change: the decision in that open draft when there is one (so changing a cell back to the live value
still reaches the draft), else the live decision. A scope the open draft's spec no longer has is
compared with live (the draft cannot take a decision for it: changing it is an error). A row naming a
scope that is not in the latest published version, an unknown firearm, or a strategy_lock cell that
differs from the live value (it is derived from the lock policies and cannot be imported) is an error.
"""

import copy

from django.core.exceptions import ValidationError
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from policies.models import Firearm
from registries.models import Connector, Scope
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import CHUNK_ROWS, TsvExport
from workbench.kit.exchange.importing import TsvImportResource
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import live_connector_snapshot, tenants_of
from workbench.selectors.policy_matrix import LockCover, latest_scopes_with_firearms
from workbench.services.drafts import draft_create, draft_update

IMPORT_STAGE = WorkbenchDraft.Stage.VERIFICATION
_LOOKUP_CHUNK = 500
#: the decision of a scope the open draft has but has not decided yet (exported as an empty cell)
UNDECIDED = ""


class LatestScopeLoader(BaseInstanceLoader):
    """The scopes of every connector the file names, with the decision a row is compared with (the
    importer's open draft's, else the live one) and the live lock cover, read once per 500 connectors
    instead of once per row."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        rows = dataset.dict if dataset else []
        names = sorted({str(row.get("connector_id") or "").strip() for row in rows})
        self.scopes, self.versions = {}, {}
        cover = resource.lock_cover
        for start in range(0, len(names), _LOOKUP_CHUNK):
            chunk = names[start:start + _LOOKUP_CHUNK]
            connectors = Connector.objects.filter(connector_id__in=chunk)
            self.versions.update(connectors.values_list("connector_id", "latest_spec__version"))
            scopes = latest_scopes_with_firearms().filter(connector__connector_id__in=chunk)
            scopes = scopes.select_related("connector")
            drafts = resource.open_drafts(chunk)
            for scope in scopes:
                connector_id = scope.connector.connector_id
                draft = drafts.get(connector_id)
                scope.firearm_decision = _draft_decision(draft, scope.name, scope.bound_firearm_id)
                scope.strategy_lock = cover.covers(connector_id, scope.name, scope.bound_firearm_id)
                self.scopes[(connector_id, scope.name)] = scope

    def get_instance(self, row):
        key = (str(row.get("connector_id") or "").strip(), str(row.get("scope") or "").strip())
        return self.scopes.get(key)


class PolicyMatrixResource(TsvExport, TsvImportResource):
    kind = "policy-matrix"
    export_permissions = (
        "registries.view_scope", "policies.view_firearmbinding", "policies.view_strategylock",
    )
    import_permissions = ("registries.view_scope", "workbench.add_workbenchdraft")
    required_columns = ("connector_id", "scope", "firearm_id")
    needs_tenant = True

    connector_id = Field(
        attribute="connector__connector_id", column_name="connector_id", widget=tsv.TextCell(), readonly=True
    )
    scope = Field(attribute="name", column_name="scope", widget=tsv.TextCell(), readonly=True)
    firearm_id = Field(attribute="firearm_decision", column_name="firearm_id", widget=tsv.FirearmCell())
    strategy_lock = Field(
        attribute="strategy_lock", column_name="strategy_lock", widget=tsv.BoolCell(), readonly=True
    )

    class Meta:
        model = Scope
        fields = ("connector_id", "scope", "firearm_id", "strategy_lock")
        import_id_fields = ("connector_id", "scope")
        instance_loader_class = LatestScopeLoader

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.decisions = {}  # connector_id -> {scope: firearm id or None}
        self.drafts = []  # (draft, "created" | "updated" | "unchanged") after a run
        self._lock_cover = None
        self._firearms = None
        self._open_drafts = {}  # connector_id -> the open draft the rows were compared with

    def writes_model(self):
        # An edited matrix never touches the scopes it lists: it writes drafts.
        return WorkbenchDraft

    # -- export -----------------------------------------------------------------------------------

    def get_queryset(self):
        return latest_scopes_with_firearms()

    def source_rows(self, queryset):
        covers = LockCover().covers
        rows = queryset.values_list("connector__connector_id", "name", "bound_firearm_id")
        for connector_id, scope, firearm_id in rows.iterator(chunk_size=CHUNK_ROWS):
            yield connector_id, scope, firearm_id, covers(connector_id, scope, firearm_id)

    # -- import -----------------------------------------------------------------------------------

    @property
    def lock_cover(self):
        if self._lock_cover is None:
            self._lock_cover = LockCover()
        return self._lock_cover

    def known_firearms(self):
        if self._firearms is None:
            self._firearms = set(Firearm.objects.values_list("firearm_id", flat=True))
        return self._firearms

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

    def row_label(self, row):
        return f"{row.get('connector_id', '')}:{row.get('scope', '')}"

    def get_instance(self, instance_loader, row):
        self._refuse_repeats(row)
        instance = instance_loader.get_instance(row)
        if instance is not None:
            return instance
        connector_id = str(row.get("connector_id") or "").strip()
        scope = str(row.get("scope") or "").strip()
        if connector_id not in instance_loader.versions:
            raise ValidationError({"connector_id": f"No connector {connector_id!r}."})
        version = instance_loader.versions[connector_id]
        if version is None:
            raise ValidationError({"connector_id": f"Connector {connector_id!r} has no published version."})
        message = f"Version {version} of {connector_id} has no scope {scope!r} (scopes change in a draft)."
        raise ValidationError({"name": message})

    def import_instance(self, instance, row, **kwargs):
        live_lock = instance.strategy_lock
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        decision = instance.firearm_decision
        unknown = decision is not None and decision not in self.known_firearms()
        if unknown and "firearm_decision" not in errors:
            errors["firearm_decision"] = [f"No firearm {decision!r}."]
        if "strategy_lock" in row:
            try:
                wanted = self.fields["strategy_lock"].clean(row)
            except ValueError as exc:
                errors["strategy_lock"] = [str(exc)]
            else:
                if wanted != live_lock:
                    errors["strategy_lock"] = [
                        f"strategy_lock is derived from the strategy lock policies and is "
                        f"{tsv.TRUE if live_lock else tsv.FALSE} for this scope; it cannot be imported. "
                        "Change the lock in the admin (or export the matrix again)."
                    ]
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Published scopes never change: the decision goes to the connector's draft after the last row.
        decisions = self.decisions.setdefault(instance.connector.connector_id, {})
        decisions[instance.name] = instance.firearm_decision

    def save_m2m(self, instance, row, **kwargs):
        pass

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors():
            return
        dry_run = kwargs.get("dry_run", False)
        for connector_id in sorted(set(self.decisions) | set(self._open_drafts)):
            decisions = self.decisions.get(connector_id)
            if not decisions:
                # Every row of the connector equals the open draft: nothing to write, but say which
                # draft "unchanged" was measured against.
                draft, what = self._open_drafts[connector_id], "unchanged"
            else:
                draft, what = write_draft(
                    user=self.user, tenant=self.tenant, connector_id=connector_id, decisions=decisions,
                    reason=self.change_reason(),
                )
            if what == "unchanged" and decisions:
                # The draft got these decisions after the rows were compared with it: nothing was
                # written, so the rows are not updates.
                _count_unchanged(result, connector_id)
            self.drafts.append((draft, what))
            self.notes.append(_note(draft, what, len(decisions or ()), self.tenant, dry_run=dry_run))


def _count_unchanged(result, connector_id):
    for row in result.rows:
        instance = row.instance
        if row.import_type == RowResult.IMPORT_TYPE_UPDATE and instance is not None \
                and instance.connector.connector_id == connector_id:
            result.totals[row.import_type] -= 1
            row.import_type = RowResult.IMPORT_TYPE_SKIP
            result.totals[row.import_type] += 1


def _draft_decision(draft, scope, live):
    """What a row of `scope` is compared with: the draft's decision (UNDECIDED when the draft has the
    scope but no decision for it), or `live` without a draft or when the draft dropped the scope."""
    if draft is None or scope not in _draft_scope_names(draft.spec_snapshot):
        return live
    policy = draft.policy_snapshot if isinstance(draft.policy_snapshot, dict) else {}
    firearms = policy.get("firearms") if isinstance(policy.get("firearms"), dict) else {}
    return firearms.get(scope, UNDECIDED)


def _note(draft, what, count, tenant, *, dry_run):
    """'created draft draft_1a2b of github 1.2.1 in acme (1 firearm decision)'"""
    if what == "unchanged":
        return f"draft {draft.pk} of {draft.connector_id} already has these decisions"
    decisions = f"{count} firearm decision{'s' if count != 1 else ''}"
    subject = f"{draft.connector_id} {draft.version} in {tenant} ({decisions})"
    if not dry_run:
        return f"{what} draft {draft.pk} of {subject}"
    if what == "created":
        return f"would create a draft of {subject}"
    return f"would update draft {draft.pk} of {subject}"


def _draft_scope_names(spec):
    scopes = spec.get("scopes") if isinstance(spec, dict) else None
    return {scope.get("name") for scope in scopes or [] if isinstance(scope, dict)}


def open_drafts(*, user, tenant, connector_ids):
    """The user's open drafts of those connectors in `tenant`, each connector's most recently revised
    first: the first is the one an import updates."""
    return WorkbenchDraft.objects.filter(
        tenant=tenant, owner=user, connector_id__in=connector_ids, status=WorkbenchDraft.Status.DRAFT
    ).order_by("connector_id", "-revised_at", "-created_at")


def write_draft(*, user, tenant, connector_id, decisions, reason):
    """Put `decisions` ({scope: firearm id or None}) into the user's open draft of the connector in
    `tenant`, or into a new draft started from the live version. Returns (draft, what happened)."""
    draft = open_drafts(user=user, tenant=tenant, connector_ids=[connector_id]).first()
    if draft is None:
        _, policy = live_connector_snapshot(connector_id)
        policy = copy.deepcopy(policy)
        policy["firearms"].update(decisions)
        draft = draft_create(
            tenant=tenant, user=user, connector_id=connector_id, policy_snapshot=policy,
            stage=IMPORT_STAGE, reason=reason,
        )
        return draft, "created"
    missing = sorted(name for name in decisions if name not in _draft_scope_names(draft.spec_snapshot))
    if missing:
        raise ValidationError(
            f"Your open draft {draft.pk} of {connector_id} has no scope {', '.join(missing)}; "
            "add the scope to the draft or abandon it, then import again."
        )
    policy = copy.deepcopy(draft.policy_snapshot) if isinstance(draft.policy_snapshot, dict) else {}
    firearms = policy.get("firearms") if isinstance(policy.get("firearms"), dict) else {}
    missing_value = object()
    if all(firearms.get(name, missing_value) == value for name, value in decisions.items()):
        return draft, "unchanged"
    firearms.update(decisions)
    policy["firearms"] = firearms
    draft = draft_update(
        draft_id=draft.pk, user=user, base_revision=draft.revision, changes={"policy_snapshot": policy},
        reason=reason,
    )
    return draft, "updated"
