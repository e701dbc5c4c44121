"""Admin pages that start drafts: a new (or next) version of a connector, and import from an MCP server."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from registries.models import Connector
from workbench.kit import identifiers as ids
from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.drafts import live_connector_snapshot, tenants_of
from workbench.services.drafts import draft_create, draft_import_mcp
from workbench.tenancy.models import Tenant

from .creating_forms import DraftAddForm, ImportMcpForm
from .views import _card_url

TENANT_PK = re.compile(r"[0-9]{1,18}")  # ASCII digits: a posted tenant id is looked up only if it can be one


def start_next_version(request, connector_id):
    """The connector page's "Start next version": a draft of the live connector from its latest version,
    in the tenant the page posted (the owner's). `draft_create` decides who may (a writer of that tenant,
    which must own the connector); its refusal is shown on the connector page, and nothing is written."""
    connector = None
    if re.fullmatch(ids.CONNECTOR_ID, connector_id):
        connector = Connector.objects.filter(connector_id=connector_id).select_related("latest_spec").first()
    posted = request.POST.get("tenant", "")
    tenant = Tenant.objects.filter(pk=posted).first() if TENANT_PK.fullmatch(posted) else None
    if connector is None or connector.latest_spec_id is None:
        messages.error(request, "Only a published connector has a next version to start.")
        return HttpResponseRedirect(reverse("admin:index"))
    back = HttpResponseRedirect(reverse("admin:registries_connector_change", args=[connector.pk]))
    if tenant is None:
        writable = list(tenants_of(request.user, writable=True)[:2])
        if len(writable) != 1:
            messages.error(request, "Choose the tenant of the new draft on 'Add workbench draft'.")
            return back
        tenant = writable[0]
    try:
        draft = draft_create(
            tenant=tenant, user=request.user, connector_id=connector.connector_id,
            reason="next version started on the connector page",
        )
    except Refusal as refusal:
        messages.error(request, refusal.message)
        return back
    messages.success(request, f"Draft {draft.pk} started from {connector.connector_id} "
                              f"{connector.latest_spec.version}: version {draft.version}.")
    return HttpResponseRedirect(_card_url(draft.pk))


def add_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    if request.method == "POST" and "start_next_version" in request.POST:
        return start_next_version(request, request.POST["start_next_version"])
    tenants = tenants_of(request.user, writable=True)
    form = DraftAddForm(request.POST or None, tenants=tenants)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        spec = None
        if live_connector_snapshot(data["connector_id"])[0] is None:
            spec = {
                "id": data["connector_id"],
                "name": data["name"] or data["connector_id"],
                "version": data["version"],
            }
        try:
            draft = draft_create(
                tenant=data["tenant"],
                user=request.user,
                connector_id=data["connector_id"],
                spec_snapshot=spec,
                reason="created in the admin",
            )
        except Refusal as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, f"Draft {draft.pk} created.")
            return HttpResponseRedirect(_card_url(draft.pk))
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/simple_form.html",
        page_context(
            model_admin,
            request,
            "Start a draft",
            form=form,
            submit="Create draft",
            no_tenant=not tenants.exists(),
            media=model_admin.media + form.media,
        ),
    )


def import_view(model_admin, request):
    """Import from an MCP server: paste or upload a tools/list result; scopes are proposed from the
    annotations and each firearm decision is left for a person."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    tenants = tenants_of(request.user, writable=True)
    form = ImportMcpForm(request.POST or None, request.FILES or None, tenants=tenants)
    problems = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draft = draft_import_mcp(
                tenant=data["tenant"],
                user=request.user,
                connector_id=data["connector_id"],
                tools_list=data["tools_list"],
                name=data["name"],
                version=data["version"],
                description=data["description"],
                packaging=form.packaging(),
                reason="imported in the admin",
            )
        except Refusal as refusal:
            for entry in refusal.errors:
                if (entry["field"] or "").startswith("packaging."):
                    form.add_packaging_error(entry["field"], [entry["message"]])
                else:
                    problems.append(
                        f"{entry['field']}: {entry['message']}" if entry["field"] else entry["message"]
                    )
            if not refusal.errors:
                problems.append(refusal.detail)
        else:
            scopes = ", ".join(f"{s['name']} ({len(s['tools'])})" for s in draft.spec_snapshot["scopes"])
            messages.success(
                request,
                f"Imported {len(draft.spec_snapshot['tools'])} tools into {draft.pk}; "
                f"proposed scopes: {scopes}. Decide a firearm for each scope, then validate.",
            )
            return HttpResponseRedirect(_card_url(draft.pk))
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/simple_form.html",
        page_context(
            model_admin,
            request,
            "Import from MCP server",
            form=form,
            submit="Import",
            problems=problems,
            multipart=True,
            no_tenant=not tenants.exists(),
            media=model_admin.media + form.media,
        ),
    )
