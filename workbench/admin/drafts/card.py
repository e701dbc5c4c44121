"""The draft card page: its fields, scopes, tools and stage path; a save goes through draft_update."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from workbench.contract import is_destructive, is_read_only, named, strings
from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.models.drafts import STAGE_PATH, stage_index
from workbench.services.drafts import draft_update

from .forms import CardForm, scope_formset, scopes_and_policy
from .views import _card_url, _validate_and_report, get_draft


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


