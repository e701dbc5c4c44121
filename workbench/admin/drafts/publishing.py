"""The "Publish selected drafts" admin action and its confirmation page.

The page shows each draft at the revision it was read at and carries that revision in the form; the
confirm publishes that revision or nothing: if someone saved the draft in between, the publish service
refuses under the draft's row lock and the message names who changed it and when."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.draft_diff import draft_diff_against_live, publish_risk_flags
from workbench.services.drafts import draft_publish

from .views import _posted_revision


def revision_field(draft):
    return f"revision_{draft.pk}"


def publish_confirmation(model_admin, request, queryset):
    """The "Publish selected drafts" action: a confirmation page with the diff against live and risk
    flags for each draft; on confirm, each draft is published at the revision the page showed, on its
    own (one refusal stops no other)."""
    drafts = list(queryset.select_related("tenant", "owner", "revised_by"))
    if "confirm" in request.POST:
        for draft in drafts:
            expected = _posted_revision(request, revision_field(draft))
            try:
                if expected is None:
                    raise Refusal(
                        428, "precondition_required", "The confirmation page named no revision; start again."
                    )
                published = draft_publish(draft_id=draft.pk, user=request.user, expected_revision=expected)
            except Refusal as refusal:
                model_admin.message_user(
                    request, f"{draft.pk}: not published. {refusal.message}", messages.ERROR
                )
            else:
                model_admin.message_user(
                    request,
                    f"{draft.pk}: published {published.connector_id} {published.published_version} "
                    f"(revision {published.revision}).",
                    messages.SUCCESS,
                )
        return None
    items = [
        {
            "draft": draft,
            "revision_field": revision_field(draft),
            "changes": draft_diff_against_live(draft),
            "flags": publish_risk_flags(draft),
        }
        for draft in drafts
    ]
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/publish_confirm.html",
        page_context(
            model_admin,
            request,
            "Publish selected drafts",
            items=items,
            queryset=drafts,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        ),
    )
