"""The "Publish selected drafts" admin action and its confirmation page."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from workbench.selectors.draft_diff import draft_diff_against_live, publish_risk_flags
from workbench.services.drafts import DraftProblem, draft_publish

from .views import _context


def publish_confirmation(model_admin, request, queryset):
    """The "Publish selected drafts" action: a confirmation page with the diff against live and risk
    flags for each draft; on confirm, each draft is published on its own (one refusal stops no other)."""
    drafts = list(queryset.select_related("tenant", "owner", "revised_by"))
    if "confirm" in request.POST:
        for draft in drafts:
            try:
                draft_publish(draft_id=draft.pk, user=request.user)
            except DraftProblem as refusal:
                model_admin.message_user(
                    request, f"{draft.pk}: not published. {refusal.message}", messages.ERROR
                )
            else:
                model_admin.message_user(
                    request, f"{draft.pk}: published {draft.connector_id} {draft.version}.", messages.SUCCESS
                )
        return None
    items = [
        {"draft": draft, "changes": draft_diff_against_live(draft), "flags": publish_risk_flags(draft)}
        for draft in drafts
    ]
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/publish_confirm.html",
        _context(
            model_admin,
            request,
            "Publish selected drafts",
            items=items,
            queryset=drafts,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        ),
    )
