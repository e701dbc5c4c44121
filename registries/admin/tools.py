"""Admin for the tool registry: tools (schemas shown as pretty JSON, coverage per tool), import and
export of tools.registry.json (upload, preview, confirm), the coverage report, "try this tool" (the
gateway's one invoke service), receipts, the permission vocabulary and the tools' domain tables."""

import json
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registries.models import (
    Boundary,
    Lead,
    MediaAsset,
    Memory,
    PatternScore,
    Task,
    ToolDefinition,
    ToolPermission,
    ToolReceipt,
    ToolRegistryImport,
)
from registries.services.gateway import resolve_handler, tool_invoke
from registries.services.tool_registry import (
    RegistryImportError,
    coverage_markdown,
    parse_registry,
    registry_plan,
    render_registry,
    tool_coverage,
    tool_registry_export,
    tool_registry_import,
)
from workbench.admin.kit import HistoryAdmin, ReadOnlyAdmin, RowAdmin, pre
from workbench.api.errors import Problem
from workbench.models import Tenant
from workbench.services.rows import row_delete

TEMPLATES = "admin/registries/tooldefinition"


def pretty(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows the value indented, so a schema reads like the registry file."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 90, "style": "font-family: monospace"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class LineListField(forms.CharField):
    """One item per line in the form, a JSON list in the model."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60, "placeholder": "result.lead_id"})

    def prepare_value(self, value):
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class ToolDefinitionForm(forms.ModelForm):
    input_schema = PrettyJSONField(
        help_text="JSON Schema of the input object (2020-12 unless it names $schema)."
    )
    output_schema = PrettyJSONField(required=False, help_text="JSON Schema of the result; {} checks nothing.")
    permissions = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the permission vocabulary (add words under Tool permissions).",
    )
    receipt_fields = LineListField(required=False, help_text="One result path per line, e.g. result.lead_id.")

    class Meta:
        model = ToolDefinition
        fields = [
            "name",
            "description",
            "enabled",
            "input_schema",
            "output_schema",
            "permissions",
            "idempotency_mode",
            "idempotency_key_field",
            "timeout_ms",
            "receipt_fields",
            "cost",
            "cost_unit",
            "connector",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = list(ToolPermission.objects.values_list("name", flat=True))
        # The tool's own permissions first, in its order (the file's), so saving keeps that order.
        own = [name for name in (self.instance.permissions or []) if name in names]
        self.fields["permissions"].choices = [
            (name, name) for name in [*own, *(n for n in names if n not in own)]
        ]

    def clean_output_schema(self):
        value = self.cleaned_data.get("output_schema")
        return {} if value is None else value


def coverage_text(tool):
    handler = resolve_handler(tool.name)
    if handler.configured:
        return format_html("<b>real</b> <code>{}</code>", handler.path)
    return format_html('<b style="color:#ba2121">not_configured</b> (expected <code>{}</code>)', handler.path)


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


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label="tools.registry.json", required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    source = forms.CharField(widget=forms.HiddenInput, required=False)


class TryToolForm(forms.Form):
    call_id = forms.CharField(
        max_length=200, help_text="Reuse a call_id to see a replay (or a 422 with other input)."
    )
    input = PrettyJSONField(help_text="The input object, valid against the tool's input_schema.")
    idempotency_key = forms.CharField(
        max_length=200,
        required=False,
        label="Idempotency-Key",
        help_text="Optional; safe-retry tools replay the first call made with the same key.",
    )
    tenant = forms.ModelChoiceField(
        Tenant.objects.none(),
        required=False,
        to_field_name="slug",
        help_text="Tenant the call is made for; default: your only tenant.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = Tenant.objects.filter(memberships__user=user)


def example_input(tool):
    """A starting input: the required properties with placeholder values of their type."""
    placeholders = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    properties = (tool.input_schema or {}).get("properties", {})
    example = {}
    for name in (tool.input_schema or {}).get("required", []):
        spec = properties.get(name, {})
        kind = spec.get("type")
        if spec.get("format") == "date-time":
            example[name] = "2030-01-01T09:00:00Z"
        elif isinstance(kind, str):
            example[name] = placeholders.get(kind, "")
        else:
            example[name] = ""
    return example


@admin.register(ToolDefinition)
class ToolDefinitionAdmin(HistoryAdmin, RowAdmin):
    form = ToolDefinitionForm
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
    identity_fields = ("name",)
    autocomplete_fields = ["connector"]
    readonly_fields = ["coverage", "registry_entry_json"]
    fieldsets = [
        (None, {"fields": ["name", "description", "enabled", "coverage"]}),
        ("Schemas", {"fields": ["input_schema", "output_schema"]}),
        (
            "Behaviour",
            {
                "fields": [
                    "permissions",
                    "idempotency_mode",
                    "idempotency_key_field",
                    "timeout_ms",
                    "receipt_fields",
                ]
            },
        ),
        ("Cost and budgets", {"fields": ["cost", "cost_unit", "connector"]}),
        ("As in tools.registry.json", {"classes": ["collapse"], "fields": ["registry_entry_json"]}),
    ]

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

    @admin.display(description="registry entry")
    def registry_entry_json(self, obj):
        return pre(pretty(obj.registry_entry())) if obj.pk else "-"

    # -- extra pages -------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="registries_tooldefinition_import"),
            path("export/", view(self.export_view), name="registries_tooldefinition_export"),
            path("coverage/", view(self.coverage_view), name="registries_tooldefinition_coverage"),
            path("<path:object_id>/try/", view(self.try_view), name="registries_tooldefinition_try"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        request.current_app = self.admin_site.name
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def can_import(self, request):
        return all(self.has_perm(request, action) for action in ("add", "change", "delete"))

    def has_perm(self, request, action):
        return request.user.has_perm(f"registries.{action}_tooldefinition")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.can_import(request)}
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_try": self.has_perm(request, "invoke")}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def import_view(self, request):
        """Upload -> preview (what would be created, updated, removed; or every error) -> confirm."""
        if not self.can_import(request):
            raise PermissionDenied
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        context = self._context(request, "Import tools.registry.json", form=form)
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, f"{TEMPLATES}/import.html", context)
        upload = form.cleaned_data["file"]
        content = upload.read() if upload else form.cleaned_data["content"].encode()
        source = upload.name if upload else form.cleaned_data["source"]
        if not content:
            form.add_error("file", "Choose a tools.registry.json file.")
            return TemplateResponse(request, f"{TEMPLATES}/import.html", context)
        try:
            document = parse_registry(content)
            if "confirm" in request.POST:
                plan = tool_registry_import(document=document, user=request.user, source=source)
                self.message_user(request, f"Imported {source}: {plan.summary()}.", messages.SUCCESS)
                return redirect(reverse("admin:registries_tooldefinition_changelist"))
            plan = registry_plan(document)
        except RegistryImportError as error:
            plan = error.plan
        context.update(
            plan=plan,
            source=source,
            confirm_form=RegistryUploadForm(
                initial={"content": content.decode("utf-8-sig"), "source": source}
            ),
        )
        return TemplateResponse(request, f"{TEMPLATES}/import.html", context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(render_registry(tool_registry_export()), content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="tools.registry.json"'
        return response

    def coverage_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = tool_coverage()
        version = tool_registry_export()["version"]
        if request.GET.get("format") == "md":
            response = HttpResponse(coverage_markdown(rows, version=version), content_type="text/markdown")
            response["Content-Disposition"] = 'attachment; filename="registry_coverage.md"'
            return response
        real = sum(1 for row in rows if row.status == "real")
        return TemplateResponse(
            request,
            f"{TEMPLATES}/coverage.html",
            self._context(
                request,
                "Registry coverage",
                rows=rows,
                real=real,
                not_configured=len(rows) - real,
                version=version,
            ),
        )

    def try_view(self, request, object_id):
        """Invoke the tool as the signed-in user through the gateway (the same service as the API)."""
        if not (self.has_perm(request, "invoke") and self.has_view_permission(request)):
            raise PermissionDenied
        tool = get_object_or_404(ToolDefinition, pk=object_id)
        initial = {"call_id": f"admin-{uuid.uuid4().hex[:12]}", "input": example_input(tool)}
        form = TryToolForm(request.POST or None, initial=initial, user=request.user)
        outcome = problem = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                outcome = tool_invoke(
                    tool_name=tool.name,
                    call_id=data["call_id"],
                    input=data["input"],
                    user=request.user,
                    idempotency_key=data["idempotency_key"] or None,
                    tenant=data["tenant"],
                )
            except Problem as refused:
                problem = {
                    "status": refused.status_code,
                    "code": refused.problem_code,
                    "detail": str(refused.detail),
                    "errors": refused.errors,
                    "extra": refused.extra,
                }
            except ValidationError as refused:
                problem = {
                    "status": 400,
                    "code": "validation_error",
                    "detail": " ".join(refused.messages),
                    "errors": [],
                    "extra": {},
                }
        context = self._context(
            request,
            f"Try {tool.name}",
            tool=tool,
            form=form,
            outcome=outcome,
            problem=problem,
            coverage=coverage_text(tool),
            input_schema=pretty(tool.input_schema),
            result_json=pretty(outcome.result) if outcome else "",
            receipt_url=reverse("admin:registries_toolreceipt_change", args=[outcome.receipt.pk])
            if outcome
            else "",
        )
        return TemplateResponse(request, f"{TEMPLATES}/try.html", context)


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
                row_delete(instance=permission)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)


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
    fields = ["imported_at", "version", "source", "imported_by", "created", "updated", "removed", "unchanged"]
    readonly_fields = fields

    @admin.display(description="created / updated / removed / unchanged")
    def counts(self, obj):
        return f"{len(obj.created)} / {len(obj.updated)} / {len(obj.removed)} / {len(obj.unchanged)}"


class DomainRowAdmin(ReadOnlyAdmin):
    """Rows the seed tools' handlers write: browse them to see a call's effects."""

    search_fields = ["call_id"]

    def get_list_display(self, request):
        return [*self.shown, "call_id", "created_at"]


@admin.register(Lead)
class LeadAdmin(DomainRowAdmin):
    shown = ["phone", "name", "email", "source"]
    search_fields = ["phone", "name", "email", "call_id"]


@admin.register(MediaAsset)
class MediaAssetAdmin(DomainRowAdmin):
    shown = ["file_ref", "media_type", "title", "size_bytes"]
    search_fields = ["file_ref", "title", "call_id"]


@admin.register(Memory)
class MemoryAdmin(DomainRowAdmin):
    shown = ["key", "content"]
    search_fields = ["key", "content", "call_id"]


@admin.register(PatternScore)
class PatternScoreAdmin(DomainRowAdmin):
    shown = ["key", "pattern", "score"]
    search_fields = ["key", "pattern", "call_id"]


@admin.register(Boundary)
class BoundaryAdmin(DomainRowAdmin):
    shown = ["key", "value"]
    search_fields = ["key", "value", "call_id"]


@admin.register(Task)
class TaskAdmin(DomainRowAdmin):
    shown = ["title", "status", "due_at"]
    list_filter = ["status"]
    search_fields = ["title", "call_id"]
