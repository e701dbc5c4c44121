"""The "Publish selected drafts" and "Validate selected drafts" admin actions.

The publish confirmation page shows each draft at the revision it was read at (its diff against live,
side by side, its risk flags and whether publishing it would be refused, and why) and carries that
revision in the form; "Yes, publish" is disabled when every selected draft would be refused. The confirm
publishes that revision or nothing: if someone saved the draft in between, the publish service refuses
under the draft's row lock and the message names who changed it and when."""

from collections import Counter

from django.contrib import messages
from django.contrib.admin import helpers
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.draft_diff import draft_diff_against_live, live_snapshots, publish_risk_flags_of
from workbench.services.drafts import draft_publish, draft_validate, publish_forecast

from .diff_rows import diff_rows
from .views import _posted_revision


def counted(number, noun):
    """ "1 warning", "2 warnings": the messages are sentences people read."""
    return f"{number} {noun}{pluralize(number)}"


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
                    request, f"Draft {draft.pk}: not published. {refusal.message}", messages.ERROR
                )
            else:
                model_admin.message_user(
                    request,
                    f"Draft {draft.pk}: published {published.connector_id} {published.published_version} "
                    f"(revision {published.revision}).",
                    messages.SUCCESS,
                )
        return None
    # Everything below is read once for all the selected drafts: the page costs the same number of
    # queries for one draft or fifty.
    refusals = publish_forecast(drafts, request.user)
    lives = live_snapshots(drafts)
    flags = publish_risk_flags_of(drafts, lives)
    items = []
    for draft in drafts:
        changes = draft_diff_against_live(draft, lives[draft.connector_id])
        items.append(
            {
                "draft": draft,
                "revision_field": revision_field(draft),
                "changes": changes,
                "groups": diff_rows(changes),
                "flags": flags[draft.pk],
                "refusal": refusals[draft.pk],
            }
        )
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/publish_confirm.html",
        page_context(
            model_admin,
            request,
            "Publish selected drafts",
            items=items,
            all_refused=all(item["refusal"] is not None for item in items),
            queryset=drafts,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        ),
    )


def validate_selected(model_admin, request, queryset):
    """The "Validate selected drafts" action: each draft validated on its own (one refusal stops no
    other) at its current revision, one message each: passed, failed with its error count, or not
    validated and why."""
    for draft_id in queryset.values_list("pk", flat=True):
        try:
            draft = draft_validate(draft_id=draft_id, user=request.user)
        except Refusal as refusal:
            model_admin.message_user(
                request, f"Draft {draft_id}: not validated. {refusal.message}", messages.ERROR
            )
            continue
        # Notes (severity info, e.g. no probe checked this revision) are neither errors nor warnings.
        severities = Counter(item.get("severity") for item in draft.validation_findings)
        errors, warnings = severities["error"], severities["warning"]
        if draft.validation_passed:
            model_admin.message_user(
                request,
                f"Draft {draft_id}: revision {draft.revision} passed validation "
                f"({counted(warnings, 'warning')}).",
                messages.SUCCESS,
            )
        else:
            model_admin.message_user(
                request,
                f"Draft {draft_id}: revision {draft.revision} failed validation: {counted(errors, 'error')}, "
                f"{counted(warnings, 'warning')}.",
                messages.ERROR,
            )
