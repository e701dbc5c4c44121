"""Creating, saving and restoring drafts. Every save that changes something is a new revision and a history
row (who, when, why); a save based on a revision someone else already replaced is refused, never applied
over their work. Drafts of a live connector are opened only in the tenant that owns it."""

import copy
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from registries.models import Connector
from workbench.kit import semver
from workbench.kit.jsontext import same_json
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import HISTORY_REASON_LENGTH, history_reason, mark_history
from workbench.models import Tenant, WorkbenchDraft
from workbench.models.snapshots import snapshot_digest
from workbench.selectors.draft_diff import restored_spec
from workbench.selectors.drafts import (
    draft_revision_record,
    drafts_editable_by,
    drafts_visible_to,
    latest_published_connector_spec,
    live_connector_snapshot,
    tenants_of,
)

from .card import apply_changes, check_stage_move, normalized_policy, normalized_spec, restore_stage
from .errors import stale_revision

#: Enforced by the database (foreign keys): full_clean would ask it once per field and draft.
DATABASE_CHECKED = ("tenant", "owner", "revised_by", "validated_by", "published_spec", "published_by")
#: The check constraints, by name, and the field each is about. Their conditions are those of the
#: fields' own validators, which full_clean runs; the database enforces them again on every write, so
#: full_clean does not ask it first (a query and a savepoint each), and a violation it reports anyway
#: is the same 400 naming the field.
CHECKED_FIELDS = {
    "workbenchdraft_id_format": "id",
    "workbenchdraft_connector_id_format": "connector_id",
    "workbenchdraft_stage_known": "stage",
    "workbenchdraft_status_known": "status",
    "workbenchdraft_revision_positive": "revision",
}


def validate(draft, *, changed=None):
    """full_clean but what the database enforces, and of a saved draft only the `changed` fields (the
    rest was validated when it was saved): a model error is the 400 a save gives."""
    exclude = set(DATABASE_CHECKED)
    if changed is not None:
        exclude.update(field.name for field in draft._meta.concrete_fields if field.name not in changed)
    try:
        draft.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise Refusal.from_validation_error(error) from error


def refused_by_database(error):
    """The 400 of a check constraint the database reports violated, or None for another error."""
    text = str(error)
    for constraint in WorkbenchDraft._meta.constraints:
        if constraint.name in text:
            return Refusal.fields({CHECKED_FIELDS[constraint.name]: constraint.violation_error_message})
    return None


SNAPSHOTS = ("spec_snapshot", "policy_snapshot")


def _digest_snapshots(draft):
    """The digests the history row refers to (models/snapshots.py), computed once: encoding a snapshot
    is also the check full_clean makes of a JSON field, so a snapshot that is not JSON is its 400."""
    digests = []
    for name in SNAPSHOTS:
        content = getattr(draft, name)
        try:
            digests.append((content, snapshot_digest(content)))
        except (TypeError, ValueError) as error:
            raise Refusal.fields({name: "Value must be valid JSON."}) from error
    draft.snapshot_digests = tuple(digests)


def _save(draft, *, user, reason, changed=None):
    if changed is not None and set(SNAPSHOTS) & set(changed):
        _digest_snapshots(draft)
        changed = [name for name in changed if name not in SNAPSHOTS]
    validate(draft, changed=changed)
    mark_history(draft, user=user, reason=reason)
    try:
        draft.save()
    except IntegrityError as error:
        # Raised out of the transaction, which is rolled back: nothing else runs on the failed one.
        refusal = refused_by_database(error)
        if refusal is None:
            raise
        raise refusal from error
    finally:
        # Good for this save only: a later one may have changed the documents in place.
        draft.__dict__.pop("snapshot_digests", None)
    return draft


def lock_draft_for_change(*, draft_id, user):
    """The draft row, locked until the transaction ends; 404 outside the user's tenants, 403 for viewers."""
    # Joined only what never changes on a draft (its tenant and owner, for the answer): after waiting for
    # the lock PostgreSQL re-reads the locked row but not the joined ones, so a joined revised_by could
    # be stale; it is fetched lazily when a refusal or the answer names it. `is_author` saves the
    # authors insert of a save by someone who already is one.
    # `last_spec` and its depth: the stored spec of the latest history row, which a changed spec is
    # stored as a delta of (models/snapshots.py).
    authors = WorkbenchDraft.authors.through.objects
    authored = authors.filter(workbenchdraft_id=OuterRef("pk"), user_id=user.pk)
    latest = WorkbenchDraft.history.filter(id=OuterRef("pk")).order_by("-history_date", "-history_id")
    draft = (
        drafts_editable_by(user)
        .select_related("tenant", "owner")
        .select_for_update(of=("self",))
        .annotate(
            is_author=Exists(authored),
            last_spec=Subquery(latest.values("spec_content")[:1]),
            last_spec_depth=Subquery(latest.values("spec_content__depth")[:1]),
        )
        .filter(pk=draft_id)
        .first()
    )
    if draft is None:
        if drafts_visible_to(user).filter(pk=draft_id).exists():
            raise Refusal(
                403,
                "permission_denied",
                f"You can read draft {draft_id} but your role in its tenant cannot change it.",
            )
        raise Refusal(404, "not_found", f"No draft {draft_id}.")
    return draft


def not_a_writer():
    """403 `not_a_writer`: drafts are created only in a tenant the user owns or edits in."""
    message = "You can create drafts only in tenants where you are an owner or editor."
    return Refusal(403, "not_a_writer", message, errors=[field_error("tenant", "not_a_writer", message)])


def check_connector_owner(*, connector_id, tenant_id, owner_id=None):
    """403 `not_connector_owner` when the connector is live and belongs to another tenant: only the owning
    tenant's members open drafts of it and publish its versions (PRODUCT.md section 10). `owner_id`
    is the locked connector's owner when the caller holds its row."""
    if owner_id is None:
        owner_id = (
            Connector.objects.filter(connector_id=connector_id).values_list("owner_id", flat=True).first()
        )
    if owner_id is not None and owner_id != tenant_id:
        owner = Tenant.objects.filter(pk=owner_id).values_list("slug", flat=True).first()
        raise Refusal(
            403,
            "not_connector_owner",
            f"Connector {connector_id} belongs to tenant {owner!r}: only its members draft and publish "
            "its versions (platform staff can transfer it).",
            owner=owner,
        )


def check_revision(draft, expected_revision):
    """412 unless the (locked) draft is at `expected_revision`; None expects nothing."""
    if expected_revision is not None and int(expected_revision) != draft.revision:
        raise stale_revision(draft, expected_revision)


def draft_create(
    *,
    tenant,
    user,
    connector_id,
    spec_snapshot=None,
    policy_snapshot=None,
    stage=WorkbenchDraft.Stage.DEFINITION,
    reason="created",
):
    """Start a draft for `connector_id` in `tenant`, owned by `user`.

    Without a spec snapshot, a connector that is already live starts from its latest published
    version (next patch version, today's firearm and KPI bindings); a new one starts empty. A draft
    starts at `definition`, or one stage on at `scoping` (409 wrong_stage beyond): later stages are
    reached by saves, one at a time.
    """
    if not tenants_of(user, writable=True).filter(pk=tenant.pk).exists():
        raise not_a_writer()
    check_connector_owner(connector_id=connector_id, tenant_id=tenant.pk)
    check_stage_move(WorkbenchDraft.Stage.DEFINITION, stage)
    if spec_snapshot is None:
        live_spec, live_policy = live_connector_snapshot(connector_id)
        if live_spec is not None:
            spec_snapshot = copy.deepcopy(live_spec)
            latest = latest_published_connector_spec(connector_id)
            spec_snapshot["version"] = semver.next_patch(latest.version)
            policy_snapshot = policy_snapshot if policy_snapshot is not None else live_policy
        else:
            spec_snapshot = {"id": connector_id, "name": connector_id, "version": "1.0.0"}
    spec = normalized_spec(spec_snapshot, connector_id)
    if isinstance(spec, dict) and spec.get("id") != connector_id:
        raise Refusal.invalid(
            [field_error("spec_snapshot.id", "invalid", "The spec's id must be the connector ID.")]
        )
    now = timezone.now()
    draft = WorkbenchDraft(
        tenant=tenant,
        owner=user,
        connector_id=connector_id,
        stage=stage,
        spec_snapshot=spec,
        policy_snapshot=normalized_policy(policy_snapshot or {}),
        revision=1,
        revised_by=user,
        revised_at=now,
    )
    with transaction.atomic():
        _save(draft, user=user, reason=reason)
        draft.authors.add(user)
    return draft


CONTENT = ("stage", "status", "spec_snapshot", "policy_snapshot")


def _content(draft):
    # No copy: apply_changes replaces the snapshots with new objects and never changes the old ones.
    return tuple(getattr(draft, name) for name in CONTENT)


def _next_revision(draft, before, *, user, reason):
    """Save the (locked, changed in memory) draft as its next revision, if anything changed: a save that
    changes nothing writes no revision and makes nobody an author. Whoever changes the spec or the
    policy becomes one of the draft's authors (the four-eyes rule of publish)."""
    after = _content(draft)
    if same_json(after, before):
        return draft
    draft.revision += 1
    draft.revised_by = user
    draft.revised_at = timezone.now()
    changed = [name for name, old, new in zip(CONTENT, before, after, strict=True) if not same_json(old, new)]
    last_spec = getattr(draft, "last_spec", None)
    if "spec_snapshot" in changed and last_spec and snapshot_digest(before[2]) == last_spec:
        # The spec it was changed from is stored (the latest history row holds it): the new one is
        # stored as the difference.
        draft.spec_base = (last_spec, before[2], draft.last_spec_depth)
    _save(draft, user=user, reason=reason or f"revision {draft.revision}",
          changed=[*changed, "revision", "revised_at"])
    if not same_json(after[2:], before[2:]) and not getattr(draft, "is_author", False):
        draft.authors.add(user)
        draft.is_author = True
    return draft


def draft_update(*, draft_id, user, base_revision, changes, reason=""):
    """Save `changes` as the next revision, if the draft is still at `base_revision`.

    The row lock makes the compare-and-set atomic: of two saves based on the same revision, the
    second one waits, then finds the revision moved and is refused (412 precondition_failed, naming
    who changed it).
    """
    with transaction.atomic():
        draft = lock_draft_for_change(draft_id=draft_id, user=user)
        if base_revision is None:
            raise Refusal(428, "precondition_required", "Say which revision the change is based on.")
        check_revision(draft, base_revision)
        before = _content(draft)
        apply_changes(draft, changes)
        _next_revision(draft, before, user=user, reason=reason)
    return draft


class Restore(NamedTuple):
    changes: dict
    stage_note: str
    version_note: str


def restore_changes(draft, record):
    """What restoring the history row `record` onto `draft` (as read) writes, writing nothing: the
    changes (stage, spec_snapshot, policy_snapshot) and the notes on the stage (`restore_stage`) and the
    version (`restored_spec`). `draft_restore` applies them; the admin's preview shows them."""
    stage, stage_note = restore_stage(draft.stage, record.stage)
    spec, version_note = restored_spec(draft.spec_snapshot, record.spec_snapshot)
    changes = {"stage": stage, "spec_snapshot": spec, "policy_snapshot": record.policy_snapshot}
    return Restore(changes, stage_note, version_note)


def draft_restore(*, draft_id, user, revision, base_revision=None, reason=""):
    """Bring back the content of an earlier revision, as a new revision (history is never rewritten).

    Any revision can be restored: its spec and policy always come back (the status stays). The draft
    takes the revision's stage when a save could move there (back, or one forward), otherwise it stays
    at its stage (`restore_stage`). The version never goes down: a revision with a lower version comes
    back with the current one (`restored_spec`). The new revision's reason says what happened to the
    stage and the version.
    """
    with transaction.atomic():
        draft = lock_draft_for_change(draft_id=draft_id, user=user)
        check_revision(draft, base_revision)
        record = draft_revision_record(draft, revision)
        if record is None:
            message = f"Draft {draft_id} has no revision {revision}."
            raise Refusal(
                404, "revision_not_found", message, errors=[field_error("revision", "not_found", message)]
            )
        restore = restore_changes(draft, record)
        before = _content(draft)
        apply_changes(draft, restore.changes, restoring=True)
        note = "; ".join(part for part in (restore.stage_note, restore.version_note) if part)
        reason = _with_note(reason or f"restored revision {revision}", note)
        _next_revision(draft, before, user=user, reason=reason)
    return draft


def _with_note(reason, note):
    """`reason (note)`, the reason cut so that the note still fits the history column."""
    reason = history_reason(reason)
    if not note:
        return reason
    room = HISTORY_REASON_LENGTH - len(note) - 3
    if len(reason) > room:
        reason = reason[: max(room - 1, 1)] + "…"
    text = f"{reason} ({note})"
    # Notes of very long versions: the end of the note goes rather than the column's limit.
    return text if len(text) <= HISTORY_REASON_LENGTH else text[: HISTORY_REASON_LENGTH - 2] + "…)"


def record_validation(*, draft, user, passed, findings, checked_revision):
    """Store a validation result on the (locked) draft; the content revision does not move."""
    draft.validation_passed = passed
    draft.validation_findings = findings
    draft.validated_revision = checked_revision
    draft.validated_at = timezone.now()
    draft.validated_by = user
    verdict = "passed" if passed else "failed"
    return _save(
        draft,
        user=user,
        reason=f"validated revision {checked_revision}: {verdict}",
        changed=["validation_passed", "validation_findings", "validated_revision", "validated_at"],
    )
