"""Policy decisions (firearms, KPI lists per scope) written into many connectors' drafts at once: the
write behind the imports into drafts (workbench/exchange/drafting.py says which rows become decisions).

For each connector, what draft_create and draft_update would do one connector at a time: the user's
open draft of the connector in the tenant gets the decisions as its next revision (one history row;
a draft that already has them is left alone, "unchanged"); without one, a draft is started from the
live version at `scoping` (history row "+", the importer an author) and moved on to `policy` with the
decisions (history row "~"). The checks and refusals are theirs, in connector order: the first
connector refused refuses the whole write.

What differs is the cost: the rows are read per chunk of connectors, locked and written in bulk (one
statement per chunk for each of: the drafts inserted, the drafts updated, each kind of history row,
the authors), and validation asks the database nothing it enforces anyway (foreign keys, the
primary key, the check constraints, all of whose conditions the field validators check first).
"""

import copy

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workbench.kit import semver
from workbench.kit.jsontext import same_json
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import history_reason
from workbench.models import WorkbenchDraft
from workbench.models.snapshots import store_snapshots
from workbench.selectors.drafts import drafts_editable_by, tenants_of
from workbench.selectors.live_connectors import live_connectors

from .card import apply_changes, check_stage_move, normalized_policy, normalized_spec
from .revisions import check_connector_owner, lock_draft_for_change, not_a_writer, validate

#: The stage a new draft starts at (the live version is its definition) and the one it moves on to.
IMPORT_STAGE = WorkbenchDraft.Stage.SCOPING
DECISIONS_STAGE = WorkbenchDraft.Stage.POLICY
CHUNK = 500
#: What a save writes of a draft it changes (the rest of the row is as read under the lock).
SAVED_FIELDS = ("stage", "status", "spec_snapshot", "policy_snapshot", "revision", "revised_by", "revised_at")
#: The content a save compares: a save that changes none of it writes no revision.
CONTENT = ("stage", "status", "spec_snapshot", "policy_snapshot")


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


def with_decisions(policy, firearms, kpis):
    """`policy` (a copy) with the firearm decisions and the scopes' whole KPI lists (empty: none)."""
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


def has_decisions(draft, firearms, kpis):
    """Whether the draft's policy already says all of it (then a save would change nothing)."""
    draft_firearms, draft_kpis = draft_policy(draft)
    missing = object()
    return all(draft_firearms.get(name, missing) == value for name, value in firearms.items()) and all(
        sorted(draft_kpis.get(name) or []) == sorted(value) for name, value in kpis.items()
    )


def draft_import_decisions(*, user, tenant, decisions, reason):
    """Write `decisions` ({connector_id: (firearms, kpis)}: {scope: firearm id or None} and {scope:
    [kpi id, ...]}) into the user's drafts in `tenant`: {connector_id: (draft, "created" | "updated" |
    "unchanged")}. Refusals as draft_create and draft_update give them (403 not_a_writer,
    not_connector_owner, permission_denied; 400 for a draft the model refuses), and 409
    scope_not_in_draft for an open draft that lacks a scope the decisions name."""
    reason = history_reason(reason)
    writes = Writes(user=user, tenant=tenant, reason=reason)
    with transaction.atomic():
        ids = sorted(decisions)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            writes.chunk({connector_id: decisions[connector_id] for connector_id in chunk})
    return writes.outcomes


class Writes:
    """One call's writes, chunk by chunk; `outcomes` collects what happened to each connector."""

    def __init__(self, *, user, tenant, reason):
        self.user, self.tenant, self.reason = user, tenant, reason
        self.started_reason = history_reason(f"{reason}: started from the live version")
        self.outcomes = {}
        self._writer = None

    def writer(self):
        """Whether the user may create drafts in the tenant (asked once, when a draft is to be created)."""
        if self._writer is None:
            self._writer = tenants_of(self.user, writable=True).filter(pk=self.tenant.pk).exists()
        return self._writer

    def chunk(self, decisions):
        ids = list(decisions)
        opened = {}
        # Locked as draft_update locks them; the first of a connector's is the one it updates.
        for draft in open_drafts(user=self.user, tenant=self.tenant, connector_ids=ids).select_for_update():
            opened.setdefault(draft.connector_id, draft)
        editable = set()
        if opened:
            pks = [draft.pk for draft in opened.values()]
            editable = set(drafts_editable_by(self.user).filter(pk__in=pks).values_list("pk", flat=True))
        live = live_connectors([connector_id for connector_id in ids if connector_id not in opened])
        started, created, updated, authored = [], [], [], []
        for connector_id in ids:  # sorted: the first connector refused is the one reported
            firearms, kpis = (dict(part or {}) for part in decisions[connector_id])
            draft = opened.get(connector_id)
            if draft is None:
                draft = self.start(connector_id, live.get(connector_id))
                started.append(copy.copy(draft))  # revision 1 as draft_create saves it (history "+")
                self.decide_new(draft, firearms, kpis)
                created.append(draft)
                authored.append(draft)
                self.outcomes[connector_id] = (draft, "created")
                continue
            if draft.pk not in editable:
                lock_draft_for_change(draft_id=draft.pk, user=self.user)  # raises its 403 or 404
            has = draft_scope_names(draft.spec_snapshot)
            missing = sorted(name for name in {*firearms, *kpis} if name not in has)
            if missing:
                raise Refusal(409, "scope_not_in_draft", (
                    f"Your open draft {draft.pk} of {connector_id} has no scope {', '.join(missing)}; "
                    "add the scope to the draft or abandon it, then import again."
                ))
            if has_decisions(draft, firearms, kpis):
                self.outcomes[connector_id] = (draft, "unchanged")
                continue
            changed = self.decide_open(draft, firearms, kpis)
            if changed:
                updated.append(draft)
            if {"spec_snapshot", "policy_snapshot"} & set(changed):
                authored.append(draft)
            self.outcomes[connector_id] = (draft, "updated")
        self.write(started, created, updated, authored)

    def start(self, connector_id, live):
        """A new draft of the connector as draft_create starts it from the live version, not saved yet."""
        if not self.writer():
            raise not_a_writer()
        if live is not None and live.owner_id is not None:  # no owner: nothing to ask the database
            check_connector_owner(connector_id=connector_id, tenant_id=self.tenant.pk, owner_id=live.owner_id)
        if live is not None and live.spec is not None:
            spec = live.spec  # decoded for this call: the draft's own, no copy needed
            spec["version"] = semver.next_patch(live.latest_version)
            policy = live.policy
        else:
            spec, policy = {"id": connector_id, "name": connector_id, "version": "1.0.0"}, {}
        spec = normalized_spec(spec, connector_id, owned=True)
        if isinstance(spec, dict) and spec.get("id") != connector_id:
            raise Refusal.invalid(
                [field_error("spec_snapshot.id", "invalid", "The spec's id must be the connector ID.")]
            )
        now = timezone.now()
        draft = WorkbenchDraft(
            tenant=self.tenant, owner=self.user, connector_id=connector_id, stage=IMPORT_STAGE,
            spec_snapshot=spec, policy_snapshot=normalized_policy(policy), revision=1,
            revised_by=self.user, revised_at=now,
        )
        validate(draft)
        return draft

    def decide_new(self, draft, firearms, kpis):
        """The save moving a just started draft on to `policy` with the decisions. Of the card's rules
        (apply_changes) only the stage move concerns it: its spec, status and connector stay as started,
        so this skips apply_changes' copy of the spec (what makes writing many drafts slow)."""
        check_stage_move(draft.stage, DECISIONS_STAGE)
        draft.stage = DECISIONS_STAGE
        draft.policy_snapshot = normalized_policy(with_decisions(draft.policy_snapshot, firearms, kpis))
        self.next_revision(draft, ("stage", "policy_snapshot"))

    def decide_open(self, draft, firearms, kpis):
        """The save of the decisions into an open draft, through the card's rules: the content fields it
        changed (none: no revision, as a save of nothing writes none)."""
        before = {name: getattr(draft, name) for name in CONTENT}
        apply_changes(draft, {"policy_snapshot": with_decisions(draft.policy_snapshot, firearms, kpis)})
        changed = [name for name in CONTENT if not same_json(getattr(draft, name), before[name])]
        if changed:
            self.next_revision(draft, changed)
        return changed

    def next_revision(self, draft, changed):
        draft.revision += 1
        draft.revised_by = self.user
        draft.revised_at = timezone.now()
        validate(draft, changed=[*changed, "revision", "revised_at"])

    def write(self, started, created, updated, authored):
        """Insert the new drafts with their first revision's history row, update the open ones, then
        every draft's new revision's history row and its authors (whoever changes the spec or the
        policy becomes one, the four-eyes rule of publish)."""
        through = WorkbenchDraft.authors.through
        revised = [*created, *updated]
        # Every snapshot both kinds of history rows refer to, stored in one statement.
        digests = iter(store_snapshots([*started, *revised]) if history_enabled() else ())
        if started:
            WorkbenchDraft.objects.bulk_create(created)
            for first, draft in zip(started, created, strict=True):
                first.created_at = draft.created_at  # as the insert set it (auto_now_add)
            history_rows(started, digests, history_type="+", user=self.user, reason=self.started_reason)
        if updated:
            WorkbenchDraft.objects.bulk_update(updated, SAVED_FIELDS)
        if revised:
            history_rows(revised, digests, history_type="~", user=self.user, reason=self.reason)
        if authored:
            authors = [through(workbenchdraft_id=draft.pk, user_id=self.user.pk) for draft in authored]
            through.objects.bulk_create(authors, ignore_conflicts=True)


def history_enabled():
    return getattr(settings, "SIMPLE_HISTORY_ENABLED", True)


def history_rows(drafts, digests, *, history_type, user, reason):
    """simple-history's bulk_history_create (one INSERT), each row referring to its draft's stored
    snapshots (`digests`: an iterator of (spec, policy) digests, one pair per draft, as store_snapshots
    returns them); nothing while simple-history is switched off, as there."""
    if not history_enabled():
        return
    model = WorkbenchDraft.history.model
    now = timezone.now()
    model.objects.bulk_create(
        model(
            history_date=now,
            history_type=history_type,
            history_user=user,
            history_change_reason=reason,
            spec_content_id=spec_digest,
            policy_content_id=policy_digest,
            **{field.attname: getattr(draft, field.attname) for field in model.tracked_fields},
        )
        for draft, (spec_digest, policy_digest) in ((draft, next(digests)) for draft in drafts)
    )
