"""The probe pages: import from a package (form -> probe -> its status page), a probe's status page
(refreshes itself while the probe is queued or running; links the draft on success, shows the reason and
the stderr tail on failure) and a draft's "Check against the live server" page."""

import re

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from workbench.kit.admin.base import add_errors_to_form, page_context
from workbench.kit.refusals import Refusal
from workbench.models import Probe
from workbench.models.drafts import DRAFT_ID as DRAFT_ID_PATTERN
from workbench.models.probes import PROBE_ID as PROBE_ID_PATTERN
from workbench.selectors.drafts import drafts_editable_by, drafts_visible_to, tenants_of
from workbench.selectors.probes import latest_checks_by_revision
from workbench.services.probes import probe_request_check, probe_request_import, probes_fail_overdue

from .forms import ImportPackageForm

PROBE_ID = re.compile(PROBE_ID_PATTERN.strip("^$"))
DRAFT_ID = re.compile(DRAFT_ID_PATTERN.strip("^$"))
#: Seconds between two loads of a status page while its probe is under way.
REFRESH_SECONDS = 2


def status_url(probe_id):
    return reverse("admin:workbench_probe_change", args=[quote(probe_id)])


def import_view(model_admin, request):
    """Import from a package: the probe starts at once and the page moves to its status."""
    if not request.user.has_perm("workbench.add_workbenchdraft"):
        raise PermissionDenied
    tenants = list(tenants_of(request.user, writable=True).order_by("slug"))
    form = ImportPackageForm(request.POST or None, tenants=tenants_of(request.user, writable=True))
    if request.method == "POST" and form.is_valid():
        try:
            probe = probe_request_import(user=request.user, **form.cleaned_data)
        except Refusal as refusal:
            add_errors_to_form(form, refusal)
        else:
            messages.success(request, f"Probe {probe.pk} of {probe.target_label} started.")
            return HttpResponseRedirect(status_url(probe.pk))
    return TemplateResponse(
        request,
        "admin/workbench/probe/import.html",
        page_context(model_admin, request, "Import from a package", form=form, no_tenant=not tenants),
    )


def status_view(model_admin, request, object_id):
    """A probe's page: its state, and what it found or why it failed."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    probe_id = unquote(object_id)
    probe = None
    # Only an id that can be one reaches the database (a NUL in a query is PostgreSQL's error).
    if PROBE_ID.fullmatch(probe_id):
        probes_fail_overdue(probe_ids=[probe_id])
        probe = (
            model_admin.get_queryset(request)
            .select_related("requested_by", "created_draft", "draft")
            .filter(pk=probe_id)
            .first()
        )
    if probe is None:
        # As every change page of the admin: another tenant's probe does not exist for the user.
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.model._meta, object_id)
    draft_id = probe.created_draft_id or probe.draft_id
    draft_url = reverse("admin:workbench_workbenchdraft_change", args=[quote(draft_id)]) if draft_id else ""
    return TemplateResponse(
        request,
        "admin/workbench/probe/status.html",
        page_context(
            model_admin,
            request,
            f"Probe {probe.pk}",
            probe=probe,
            refresh=None if probe.finished else REFRESH_SECONDS,
            draft_url=draft_url,
            check_url=draft_probe_url(probe.draft_id) if probe.draft_id else "",
            errors=sum(1 for item in probe.findings or [] if item.get("severity") == "error"),
        ),
    )


def draft_probe_url(draft_id):
    return reverse("admin:workbench_workbenchdraft_probe", args=[quote(draft_id)])


def draft_probe_view(model_admin, request, object_id):
    """Check against the live server: the newest probe of each revision of the draft, and a button that
    starts one of the current revision (for whoever may change the draft)."""
    draft_id = unquote(object_id)
    draft = None
    if DRAFT_ID.fullmatch(draft_id):
        draft = drafts_visible_to(request.user).filter(pk=draft_id).first()
    if draft is None:
        raise Http404("No such draft.")
    if not model_admin.has_view_or_change_permission(request, draft):
        raise PermissionDenied
    may_start = (
        request.user.has_perm("workbench.change_workbenchdraft")
        and drafts_editable_by(request.user).filter(pk=draft.pk).exists()
    )
    if request.method == "POST":
        if not may_start:
            raise PermissionDenied
        try:
            probe = probe_request_check(user=request.user, draft_id=draft.pk)
        except Refusal as refusal:
            messages.error(request, refusal.message)
            return HttpResponseRedirect(draft_probe_url(draft.pk))
        messages.success(request, f"Probe {probe.pk} of revision {probe.draft_revision} started.")
        return HttpResponseRedirect(status_url(probe.pk))
    latest = latest_checks_by_revision(draft)
    rows = [
        {"revision": revision, "probe": probe, "url": status_url(probe.pk)}
        for revision, probe in latest.items()
    ]
    under_way = any(not row["probe"].finished for row in rows)
    return TemplateResponse(
        request,
        "admin/workbench/probe/draft_probes.html",
        page_context(
            model_admin,
            request,
            f"{draft.pk}: check against the live server",
            draft=draft,
            rows=rows,
            current=latest.get(draft.revision),
            may_start=may_start,
            refresh=REFRESH_SECONDS if under_way else None,
            card_url=reverse("admin:workbench_workbenchdraft_change", args=[quote(draft.pk)]),
            probe_opts=Probe._meta,
        ),
    )
