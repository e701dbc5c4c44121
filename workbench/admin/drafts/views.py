"""Shared by the draft admin pages: reading a draft the user may see, its admin URLs, posted revision
numbers, and the Validate button."""

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse

from workbench.kit.refusals import Refusal
from workbench.selectors.drafts import REVISION_NUMBER
from workbench.services.drafts import draft_validate


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


