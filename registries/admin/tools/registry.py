"""Admin for the tool registry's definitions: tools (read-only: schemas shown as pretty JSON, coverage per
tool, with the extra pages of registries.admin.tools.pages) and the permission vocabulary (edited here by
platform staff: it is not part of tools.registry.json)."""

from django.contrib import admin, messages

from registries.admin.tools.forms import pretty
from registries.admin.tools.pages import TEMPLATES, ToolPagesMixin, coverage_text
from registries.models import ToolDefinition, ToolPermission
from registries.services.gateway import resolve_handler
from workbench.kit.admin import HistoryAdmin, ReadOnlyAdmin, RowAdmin, pre
from workbench.kit.refusals import Refusal
from workbench.kit.rows import row_delete


class CoverageFilter(admin.SimpleListFilter):
    title = "coverage"
    parameter_name = "coverage"

    def lookups(self, request, model_admin):
        return [("real", "real"), ("not_configured", "not_configured")]

    def queryset(self, request, queryset):
        if self.value() in ("real", "not_configured"):
            names = [
                tool.name
                for tool in queryset.only("name")
                if resolve_handler(tool.name).status == self.value()
            ]
            return queryset.filter(name__in=names)
        return queryset


@admin.register(ToolDefinition)
class ToolDefinitionAdmin(ToolPagesMixin, HistoryAdmin, ReadOnlyAdmin):
    """Tools are read here, never edited: tools.registry.json is the single source of truth (seed 002),
    and tools change only by importing it (the Import page, or `import_tool_registry`)."""

    change_list_template = f"{TEMPLATES}/change_list.html"
    change_form_template = f"{TEMPLATES}/change_form.html"
    list_display = [
        "name",
        "mode",
        "key_field",
        "coverage",
        "enabled",
        "timeout_ms",
        "cost",
        "permission_list",
    ]
    list_filter = ["enabled", "idempotency_mode", CoverageFilter]
    list_select_related = ["connector"]
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "coverage"]}),
        ("Schemas", {"fields": ["input_schema_json", "output_schema_json"]}),
        (
            "Behaviour",
            {
                "fields": [
                    "permission_list",
                    "idempotency_mode",
                    "idempotency_key_field",
                    "timeout_ms",
                    "receipt_fields_list",
                ]
            },
        ),
        ("Cost and budgets", {"fields": ["cost", "cost_unit", "connector"]}),
        ("As in tools.registry.json", {"classes": ["collapse"], "fields": ["registry_entry_json"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    @admin.display(description="idempotency", ordering="idempotency_mode")
    def mode(self, obj):
        return obj.idempotency_mode

    @admin.display(description="key field")
    def key_field(self, obj):
        return obj.idempotency_key_field or "-"

    @admin.display(description="coverage")
    def coverage(self, obj):
        return coverage_text(obj) if obj.name else "-"

    @admin.display(description="permissions")
    def permission_list(self, obj):
        return ", ".join(obj.permissions) or "-"

    @admin.display(description="input schema")
    def input_schema_json(self, obj):
        return pre(pretty(obj.input_schema))

    @admin.display(description="output schema")
    def output_schema_json(self, obj):
        return pre(pretty(obj.output_schema))

    @admin.display(description="receipt fields")
    def receipt_fields_list(self, obj):
        return ", ".join(obj.receipt_fields) or "-"

    @admin.display(description="registry entry")
    def registry_entry_json(self, obj):
        return pre(pretty(obj.registry_entry())) if obj.pk else "-"


@admin.register(ToolPermission)
class ToolPermissionAdmin(HistoryAdmin, RowAdmin):
    list_display = ["name", "description", "requires_provider"]
    list_filter = ["requires_provider"]
    search_fields = ["name", "description"]
    identity_fields = ("name",)

    def get_list_display(self, request):
        index = {}
        for tool in ToolDefinition.objects.only("name", "permissions"):
            for name in tool.permissions:
                index.setdefault(name, []).append(tool.name)

        @admin.display(description="used by")
        def used_by(obj):
            return ", ".join(index.get(obj.name, [])) or "-"

        return [*super().get_list_display(request), used_by]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.used_by():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        for permission in queryset:
            try:
                row_delete(instance=permission, user=request.user)
            except Refusal as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
