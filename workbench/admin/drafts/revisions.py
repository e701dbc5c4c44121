"""The history of a draft: every save with who, when and why, diffs between revisions (or live), restore."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.draft_diff import diff_states
from workbench.selectors.drafts import (
    draft_history,
    draft_revision_numbers,
    draft_revision_record,
    draft_side,
)
from workbench.services.drafts import draft_restore, restore_stage

from .views import _card_url, _posted_revision, draft_admin_url, get_draft


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
            revisions=draft_revision_numbers(draft),
            can_restore=model_admin.has_change_permission(request, draft) and draft.status != "published",
        ),
    )


def diff_view(model_admin, request, object_id):
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
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/diff.html",
        page_context(
            model_admin,
            request,
            f"{draft.pk}: {'live' if before == 'live' else 'revision ' + before} → revision {after}",
            draft=draft,
            changes=changes,
            before=before,
            after=after,
            revisions=draft_revision_numbers(draft),
        ),
    )


def restore_view(model_admin, request, object_id):
    draft = get_draft(model_admin, request, object_id)
    if request.method != "POST" or not model_admin.has_change_permission(request, draft):
        raise PermissionDenied
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
