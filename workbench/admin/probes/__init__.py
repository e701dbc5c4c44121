"""Sandbox probes in the admin: the probe list and its status pages (read-only, the user's tenants), the
"Import from a package" page, and the "Check against the live server" page of a draft
(`workbenchdraft/<id>/probe/`, routed by the draft admin). Probes have no permissions of their own:
reading one takes the drafts' view permission, starting one the drafts' add (import) or change (check)."""

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import path, reverse
from django.utils.html import format_html
from django_tasks_db.models import DBTaskResult

from workbench.kit.admin.base import ReadOnlyAdmin
from workbench.models import Probe

from . import pages

# The task backend's own rows are its internals: people follow a probe through the probe's row, which
# says what ran and why it failed in the product's words.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)

DRAFT_VIEW = "workbench.view_workbenchdraft"


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "kind", "target", "connector_id", "status", "draft_link", "requested_by", "created_at"
    )
    list_filter = ("status", "kind", "registry_type")
    search_fields = ("id", "connector_id", "identifier")
    list_select_related = ("requested_by",)
    date_hierarchy = None

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(DRAFT_VIEW)

    def has_module_permission(self, request):
        return request.user.has_perm(DRAFT_VIEW)

    @admin.display(description="target")
    def target(self, probe):
        return probe.target_label

    @admin.display(description="draft")
    def draft_link(self, probe):
        draft_id = probe.created_draft_id or probe.draft_id
        if draft_id is None:
            return "—"
        url = reverse("admin:workbench_workbenchdraft_change", args=[quote(draft_id)])
        revision = f" rev {probe.draft_revision}" if probe.kind == Probe.Kind.CHECK else ""
        return format_html('<a href="{}">{}</a>{}', url, draft_id, revision)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "import/",
                wrap(lambda request: pages.import_view(self, request)),
                name="workbench_probe_import",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return pages.status_view(self, request, object_id)
