"""Admin for workbench drafts: the card, revisions (history, diff, restore), import from an MCP server or
from a server.json and the "Validate selected drafts" and "Publish selected drafts" actions. Staff see
the drafts of their own tenants only."""

from django.contrib import admin
from django.urls import path
from django.utils.html import format_html

from workbench.admin.probes.pages import draft_probe_view
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import drafts_visible_to
from workbench.services.drafts import PUBLISH_PERMISSION

from . import card, creating, publishing, revisions, server_json, views


@admin.register(WorkbenchDraft)
class WorkbenchDraftAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "connector_id",
        "version",
        "stage",
        "status",
        "revision",
        "validation",
        "tenant",
        "owner",
        "revised_by",
        "revised_at",
    ]
    list_filter = ["status", "stage", ("tenant", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant", "owner", "revised_by"]
    search_fields = ["id", "connector_id"]
    actions = ["validate_selected", "publish_selected"]
    change_list_template = "admin/workbench/workbenchdraft/change_list.html"

    def get_queryset(self, request):
        # Tenant isolation: membership is the only way to see a draft, superusers included.
        return drafts_visible_to(request.user).select_related("tenant", "owner", "revised_by")

    def has_delete_permission(self, request, obj=None):
        return False  # drafts are abandoned, never deleted: their history stays

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    @admin.display(description="version")
    def version(self, obj):
        return obj.version

    @admin.display(description="validation")
    def validation(self, obj):
        if obj.validation_passed is None:
            return "—"
        verdict = "passed" if obj.validation_passed else "failed"
        if not obj.validation_is_current:
            return format_html(
                '<span title="about revision {}">{} (outdated)</span>', obj.validated_revision, verdict
            )
        return verdict

    @admin.action(description="Validate selected drafts", permissions=["change"])
    def validate_selected(self, request, queryset):
        return publishing.validate_selected(self, request, queryset)

    @admin.action(description="Publish selected drafts", permissions=["publish"])
    def publish_selected(self, request, queryset):
        return publishing.publish_confirmation(self, request, queryset)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "import-mcp/",
                wrap(lambda request: creating.import_view(self, request)),
                name="workbench_workbenchdraft_import_mcp",
            ),
            path(
                "import-server-json/",
                wrap(lambda request: server_json.import_server_json_view(self, request)),
                name="workbench_workbenchdraft_import_server_json",
            ),
            path(
                "<path:object_id>/validate/",
                wrap(lambda request, object_id: views.validate_view(self, request, object_id)),
                name="workbench_workbenchdraft_validate",
            ),
            path(
                "<path:object_id>/probe/",
                wrap(lambda request, object_id: draft_probe_view(self, request, object_id)),
                name="workbench_workbenchdraft_probe",
            ),
            path(
                "<path:object_id>/diff/",
                wrap(lambda request, object_id: revisions.diff_view(self, request, object_id)),
                name="workbench_workbenchdraft_diff",
            ),
            path(
                "<path:object_id>/restore/",
                wrap(lambda request, object_id: revisions.restore_view(self, request, object_id)),
                name="workbench_workbenchdraft_restore",
            ),
        ]
        return own + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        return creating.add_view(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return card.card_view(self, request, object_id)

    def history_view(self, request, object_id, extra_context=None):
        return revisions.history_view(self, request, object_id)
