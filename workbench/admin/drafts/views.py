"""Admin pages of a draft: the card, its history with diffs and restore, the MCP import page and the
publish confirmation. Thin: forms parse, the draft services decide, refusals come back as messages."""

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from workbench.contract import is_destructive, is_read_only, named, strings
from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.models.drafts import STAGE_PATH, stage_index
from workbench.selectors.draft_diff import diff_states
from workbench.selectors.drafts import (
    REVISION_NUMBER,
    draft_history,
    draft_revision_numbers,
    draft_revision_record,
    draft_side,
)
from workbench.services.drafts import draft_restore, draft_update, draft_validate, restore_stage

from .forms import CardForm, scope_formset, scopes_and_policy


def _posted_revision(request, name="base_revision"):
    """A revision number posted by one of these pages, or None (ASCII digits only)."""
    value = request.POST.get(name, "")
    return int(value) if REVISION_NUMBER.fullmatch(value) else None


def draft_admin_url(name, draft_id):
    # Admin URLs carry the pk quoted ("draft_4f.." -> "draft_5F4f.."), as the changelist links do.
    return reverse(f"admin:workbench_workbenchdraft_{name}", args=[quote(draft_id)])


def _card_url(draft_id):
    return draft_admin_url("change", draft_id)


def get_draft(model_admin, request, object_id):
    """The draft if the user may see it: other tenants' drafts do not exist for them."""
    draft = model_admin.get_queryset(request).filter(pk=unquote(object_id)).first()
    if draft is None:
        raise Http404("No such draft.")
    if not model_admin.has_view_or_change_permission(request, draft):
        raise PermissionDenied
    return draft


def _posted_tool_names(card, draft):
    """Tool choices for the scope rows: the tools as posted when they parse, else the stored ones."""
    if card.is_bound and "tools" in card.fields and not card.fields["tools"].disabled:
        try:
            tools = card.fields["tools"].clean(card.data.get("tools", ""))
        except ValidationError:
            tools = None
        if tools is not None:
            return [tool.get("name") for tool in tools if isinstance(tool, dict)]
    return [
        tool.get("name") for tool in (draft.spec_snapshot or {}).get("tools") or [] if isinstance(tool, dict)
    ]


def _save_card(request, draft, card, scopes):
    spec = dict(draft.spec_snapshot or {})
    spec["version"] = card.cleaned_data["version"]
    spec["description"] = card.cleaned_data["description"]
    spec["packaging"] = card.packaging(spec.get("packaging"))
    # A non-object stored before the service refused them is replaced (the revision's diff shows it).
    spec["portability"] = card.portability_value(spec.get("portability"))
    if card.cleaned_data["skills"] or "skills" in spec:
        spec["skills"] = card.cleaned_data["skills"]
    if not card.fields["tools"].disabled:
        spec["tools"] = card.cleaned_data["tools"]
    scope_list, policy = scopes_and_policy(scopes, spec.get("scopes"))
    if draft.status == WorkbenchDraft.Status.DRAFT:
        spec["scopes"] = scope_list
    changes = {"spec_snapshot": spec, "policy_snapshot": policy, "stage": card.cleaned_data["stage"]}
    if draft.status != WorkbenchDraft.Status.PUBLISHED:
        changes["status"] = card.cleaned_data["status"]
    return draft_update(
        draft_id=draft.pk,
        user=request.user,
        base_revision=card.cleaned_data["base_revision"],
        changes=changes,
        reason=card.cleaned_data.get("reason") or "edited in the admin",
    )


def card_view(model_admin, request, object_id):
    """The draft card (CONTRACT B3): name/ID fixed, version upward, scopes while draft, firearm decision
    and KPIs per scope, validation read-only, stage progress."""
    draft = get_draft(model_admin, request, object_id)
    can_change = model_admin.has_change_permission(request, draft) and draft.status != "published"
    editable = draft.status == WorkbenchDraft.Status.DRAFT
    stale = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        card = CardForm(request.POST, scopes_editable=editable, stage=draft.stage)
        scopes = scope_formset(draft, data=request.POST, tool_names=_posted_tool_names(card, draft))
        if card.is_valid() and scopes.is_valid():
            try:
                saved = _save_card(request, draft, card, scopes)
            except Refusal as refusal:
                if refusal.status == 412:
                    stale = refusal
                else:
                    _card_errors(card, refusal)
            else:
                messages.success(request, f"Saved revision {saved.revision} of {saved.pk}.")
                if "_validate" in request.POST:
                    _validate_and_report(request, saved, saved.revision)
                return HttpResponseRedirect(_card_url(saved.pk))
    else:
        card = CardForm(initial=CardForm.initial_for(draft), scopes_editable=editable, stage=draft.stage)
        scopes = scope_formset(draft)
    if not can_change:
        for field in card.fields.values():
            field.disabled = True
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/card.html",
        page_context(
            model_admin,
            request,
            f"Draft {draft.pk}: {draft.name or draft.connector_id}",
            draft=draft,
            card=card,
            scopes=scopes,
            stale=stale,
            can_change=can_change,
            scopes_editable=editable,
            stages=_stage_path(draft),
            stage_moves=[stage for stage in draft.stage_moves if stage != draft.stage],
            findings=draft.validation_findings or [],
            stage_lacks=draft.stage_lacks,
            tools=_tool_rows(draft),
            can_publish=model_admin.has_publish_permission(request),
            media=model_admin.media + card.media + scopes.media,
        ),
    )


CARD_FIELDS = {
    "spec_snapshot.version": "version",
    "status": "status",
    "stage": "stage",
    "spec_snapshot.portability": "portability",
    "spec_snapshot.skills": "skills",
}


def _stage_path(draft):
    """The path with the current stage marked, and each other stage a save may move to (back or next).
    A stage outside the path (the database refuses one, a draft in memory may still carry one) shows as
    the path's start rather than a 500."""
    here = stage_index(draft.stage)
    return [
        {
            "name": stage,
            "done": index < here,
            "current": index == here,
            "move": "back" if index < here else "next" if index == here + 1 else "",
        }
        for index, stage in enumerate(STAGE_PATH)
    ]


def _card_errors(card, refusal):
    """A refused save on the card: each field error on its field where the card has one, the rest on top."""
    if not refusal.errors:
        card.add_error(None, refusal.detail)
    for entry in refusal.errors:
        target = CARD_FIELDS.get(entry["field"])
        message = entry["message"]
        card.add_error(target, message if target or not entry["field"] else f"{entry['field']}: {message}")


def _tool_rows(draft):
    spec = draft.spec_snapshot or {}
    granted = {}
    for scope in named(spec.get("scopes")):
        for tool in strings(scope.get("tools")):
            granted.setdefault(tool, []).append(scope["name"])
    return [
        {
            "name": tool.get("name"),
            "title": tool.get("title") or "",
            "read_only": is_read_only(tool),
            "destructive": is_destructive(tool),
            "scopes": granted.get(tool["name"], []),
        }
        for tool in named(spec.get("tools"))
    ]


def _validate_and_report(request, draft, expected_revision=None):
    try:
        draft = draft_validate(draft_id=draft.pk, user=request.user, expected_revision=expected_revision)
    except Refusal as refusal:
        messages.error(request, refusal.message)
        return
    errors = sum(1 for item in draft.validation_findings if item["severity"] == "error")
    lacks = len(draft.stage_lacks)
    at_stage = f"stage {draft.stage} still lacks {lacks}" if lacks else f"stage {draft.stage} lacks nothing"
    if draft.validation_passed:
        messages.success(
            request,
            f"Revision {draft.revision} passed validation ({len(draft.validation_findings)} warnings).",
        )
    else:
        messages.error(request, f"Revision {draft.revision} failed validation: {errors} errors; {at_stage}.")


def validate_view(model_admin, request, object_id):
    draft = get_draft(model_admin, request, object_id)
    if request.method != "POST" or not model_admin.has_change_permission(request, draft):
        raise PermissionDenied
    _validate_and_report(request, draft, _posted_revision(request))
    return HttpResponseRedirect(_card_url(draft.pk))


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
            reason=f"restored revision {revision} in the admin",
        )
    except Refusal as refusal:
        messages.error(request, f"Not restored: {refusal.message}")
        return HttpResponseRedirect(draft_admin_url("history", draft.pk))
    done = (
        f"Revision {revision} restored as revision {restored.revision}"
        if restored.revision != base_revision
        else f"Restoring revision {revision} changed nothing"
    )
    wanted = draft_revision_record(restored, revision).stage
    if restored.stage == wanted:
        messages.success(request, f"{done}, at stage {restored.stage}.")
    else:
        messages.success(
            request,
            f"{done}; the stage stays {restored.stage}: revision {revision} was at {wanted}, and a draft "
            "moves one stage forward at a time.",
        )
    return HttpResponseRedirect(_card_url(draft.pk))
