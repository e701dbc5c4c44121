"""The history of a draft: every save with who, when and why, side-by-side diffs between any two
revisions (or live), and restore, which shows what it would change before it asks for confirmation."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.draft_diff import diff_states
from workbench.selectors.drafts import (
    REVISION_NUMBER,
    draft_history,
    draft_revision_numbers,
    draft_revision_record,
    draft_side,
    drafts_editable_by,
)
from workbench.services.drafts import draft_restore, restore_changes, restore_stage

from .diff_rows import diff_rows, side_choices
from .views import _card_url, _posted_revision, draft_admin_url, get_draft


def _may_restore(model_admin, request, draft):
    # The restore service's own gate is the access table (drafts_editable_by): asked here too, so a
    # viewer is not offered a preview of a restore they cannot confirm.
    return (
        model_admin.has_change_permission(request, draft)
        and draft.status != "published"
        and drafts_editable_by(request.user).filter(pk=draft.pk).exists()
    )


def history_view(model_admin, request, object_id):
    """Every save with who, when and why; compare any two revisions (or live) and restore one."""
    draft = get_draft(model_admin, request, object_id)
    records = list(draft_history(draft))
    for record in records:
        # What a restore of this revision would do to the stage, shown beside its button.
        record.restore_note = restore_stage(draft.stage, record.stage)[1]
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/history.html",
        page_context(
            model_admin,
            request,
            f"History of {draft.pk}",
            draft=draft,
            records=records,
            sides=side_choices(draft),
            current=str(draft.revision),
            can_restore=_may_restore(model_admin, request, draft),
        ),
    )


def diff_view(model_admin, request, object_id):
    """Any two sides side by side: revisions or live, chosen on the page itself."""
    draft = get_draft(model_admin, request, object_id)
    before = request.GET.get("from", "live")
    after = request.GET.get("to", str(draft.revision))
    try:
        changes = diff_states(
            draft_side(draft, before, param="from"), draft_side(draft, after, param="to")
        )
    except Refusal as refusal:
        messages.error(request, f"Cannot compare: {refusal.detail}")
        return HttpResponseRedirect(draft_admin_url("history", draft.pk))

    def side(key):
        return "live" if key == "live" else f"revision {key}"

    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/diff.html",
        page_context(
            model_admin,
            request,
            f"{draft.pk}: {side(before)} → {side(after)}",
            draft=draft,
            changes=changes,
            groups=diff_rows(changes),
            before=before,
            after=after,
            sides=side_choices(draft),
        ),
    )


def _current_side(draft):
    return {
        "stage": draft.stage,
        "status": draft.status,
        "spec_snapshot": draft.spec_snapshot,
        "policy_snapshot": draft.policy_snapshot,
    }


def restore_view(model_admin, request, object_id):
    """GET: the preview of restoring `?revision=` (the diff from the current revision to what the restore
    would write), or a choice of revision; POST: the confirmation, carrying the revision it showed."""
    draft = get_draft(model_admin, request, object_id)
    if not _may_restore(model_admin, request, draft):
        raise PermissionDenied
    if request.method == "POST":
        return _restore(request, draft)
    raw = request.GET.get("revision", "")
    record = draft_revision_record(draft, int(raw)) if REVISION_NUMBER.fullmatch(raw) else None
    if raw and record is None:
        messages.error(request, f"Draft {draft.pk} has no revision {raw[:12]!r} to restore.")
        return HttpResponseRedirect(draft_admin_url("history", draft.pk))
    context = {"draft": draft, "revision": None, "revisions": draft_revision_numbers(draft)}
    title = f"Restore a revision of {draft.pk}"
    if record is not None:
        restore = restore_changes(draft, record)
        changes = diff_states(_current_side(draft), {**_current_side(draft), **restore.changes})
        context.update(
            revision=record.revision,
            changes=changes,
            groups=diff_rows(changes),
            stage_note=restore.stage_note,
            version_note=restore.version_note,
            revision_version=(record.spec_snapshot or {}).get("version")
            if isinstance(record.spec_snapshot, dict)
            else None,
        )
        title = f"Restore revision {record.revision} of {draft.pk}?"
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/restore_preview.html",
        page_context(model_admin, request, title, **context),
    )


def _restore(request, draft):
    revision, base_revision = _posted_revision(request, "revision"), _posted_revision(request)
    try:
        if revision is None or base_revision is None:
            raise Refusal(400, "validation_error", "The restore form is incomplete; open the history again.")
        restored = draft_restore(
            draft_id=draft.pk,
            user=request.user,
            revision=revision,
            base_revision=base_revision,
            reason=f"restored revision {revision}",
        )
    except Refusal as refusal:
        messages.error(request, f"Not restored: {refusal.message}")
        return HttpResponseRedirect(draft_admin_url("history", draft.pk))
    done = (
        f"Revision {revision} restored as revision {restored.revision}"
        if restored.revision != base_revision
        else f"Restoring revision {revision} changed nothing"
    )
    record = draft_revision_record(restored, revision)
    if restored.stage == record.stage:
        done = f"{done}, at stage {restored.stage}."
    else:
        done = (
            f"{done}; the stage stays {restored.stage}: revision {revision} was at {record.stage}, and a "
            "draft moves one stage forward at a time."
        )
    had = (record.spec_snapshot or {}).get("version") if isinstance(record.spec_snapshot, dict) else None
    if had != restored.version:
        done += (
            f" The version stays {restored.version} (revision {revision} had {had}): a restore never "
            "lowers the version."
        )
    messages.success(request, done)
    return HttpResponseRedirect(_card_url(draft.pk))
