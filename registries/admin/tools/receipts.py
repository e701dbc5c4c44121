"""Read-only admin for what the gateway and the registry import leave behind: receipts and imports."""

from django.contrib import admin

from registries.admin.tools.forms import pretty
from registries.models import ToolReceipt, ToolRegistryImport
from workbench.kit.admin import ReadOnlyAdmin, pre


@admin.register(ToolReceipt)
class ToolReceiptAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "tool_name",
        "call_id",
        "status",
        "user",
        "tenant",
        "duration_ms",
        "idempotency_mode",
    ]
    list_filter = ["status", "idempotency_mode", "tool_name"]
    list_select_related = ["user", "tenant"]
    search_fields = ["call_id", "tool_name", "idempotency_key"]
    date_hierarchy = "started_at"
    fields = [
        "uid",
        "tool_name",
        "call_id",
        "status",
        "user",
        "tenant",
        "idempotency_mode",
        "idempotency_key",
        "key_value",
        "input_json",
        "result_json",
        "receipt_fields_json",
        "output_errors_json",
        "error_json",
        "cost",
        "started_at",
        "finished_at",
        "duration_ms",
        "deadline_at",
    ]
    readonly_fields = fields

    @admin.display(description="input")
    def input_json(self, obj):
        return pre(pretty(obj.input))

    @admin.display(description="result")
    def result_json(self, obj):
        return pre(pretty(obj.result))

    @admin.display(description="receipt fields")
    def receipt_fields_json(self, obj):
        return pre(pretty(obj.receipt_fields))

    @admin.display(description="output schema mismatches")
    def output_errors_json(self, obj):
        return pre(pretty(obj.output_errors)) if obj.output_errors else "none"

    @admin.display(description="error")
    def error_json(self, obj):
        return pre(pretty(obj.error)) if obj.error else "-"


@admin.register(ToolRegistryImport)
class ToolRegistryImportAdmin(ReadOnlyAdmin):
    list_display = ["imported_at", "version", "source", "imported_by", "counts"]
    list_select_related = ["imported_by"]
    fields = [
        "imported_at",
        "version",
        "source",
        "imported_by",
        "created",
        "updated",
        "removed",
        "unchanged",
        "keyed_tools_list",
        "key_change_reason",
    ]
    readonly_fields = fields

    @admin.display(description="keyed tools' list after this import")
    def keyed_tools_list(self, obj):
        if obj.keyed_tools is None:
            return "not recorded (seed 002's list)"
        return ", ".join(f"{name} by {key}" for name, key in obj.keyed_tools.items()) or "none"

    @admin.display(description="created / updated / removed / unchanged")
    def counts(self, obj):
        return f"{len(obj.created)} / {len(obj.updated)} / {len(obj.removed)} / {len(obj.unchanged)}"
