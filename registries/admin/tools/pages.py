"""The tool definition admin's extra pages: import (upload, preview, confirm) and export of
tools.registry.json, the coverage report and "try this tool" (the gateway's one invoke service)."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registries.admin.tools.forms import (
    RegistryUploadForm,
    ReplayCallForm,
    TryToolForm,
    example_input,
    pretty,
)
from registries.models import ToolDefinition
from registries.services.gateway import resolve_handler, tool_invoke
from registries.services.tool_registry import (
    RegistryImportError,
    coverage_markdown,
    tool_coverage,
    tool_registry_export,
    tool_registry_export_text,
    tool_registry_import,
)
from workbench.kit import access
from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal

TEMPLATES = "admin/registries/tooldefinition"


def coverage_text(tool):
    handler = resolve_handler(tool.name)
    if handler.configured:
        return format_html("<b>real</b> <code>{}</code>", handler.path)
    return format_html(
        '<b class="wb-not-configured">not_configured</b> (expected <code>{}</code>)', handler.path
    )


class ToolPagesMixin:
    """The import, export, coverage and try pages of ToolDefinitionAdmin (mixed in before the ModelAdmin)."""

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
        return page_context(self, request, title, **extra)

    def can_import(self, request):
        # The registry is the platform's: the three permissions, and platform staff (the access table).
        permitted = all(self.has_perm(request, action) for action in ("add", "change", "delete"))
        return permitted and access.may_write(request.user, self.model)

    def has_perm(self, request, action):
        return request.user.has_perm(f"registries.{action}_tooldefinition")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.can_import(request)}
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_try": self.has_perm(request, "invoke")}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def import_view(self, request):
        """Upload -> preview (what would be created, updated, removed, which keyed tools would change; or
        every problem) -> confirm. Preview and confirm are the registry import service (a dry run, then
        the write), so the admin refuses exactly what `import_tool_registry` refuses."""
        if not self.can_import(request):
            raise PermissionDenied
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        context = self._context(request, "Import tools.registry.json", form=form)
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, f"{TEMPLATES}/import.html", context)
        data = form.cleaned_data
        upload = data["file"]
        content = upload.read() if upload else data["content"]
        source = upload.name if upload else data["source"]
        if not content:
            form.add_error("file", "Choose a tools.registry.json file.")
            return TemplateResponse(request, f"{TEMPLATES}/import.html", context)
        options = {
            "content": content,
            "user": request.user,
            "source": source,
            "allow_key_change": data["allow_key_change"],
            "reason": data["reason"],
        }
        try:
            if "confirm" in request.POST:
                plan = tool_registry_import(**options)
                self.message_user(request, f"Imported {source}: {plan.summary()}.", messages.SUCCESS)
                return redirect(reverse("admin:registries_tooldefinition_changelist"))
            plan = tool_registry_import(**options, dry_run=True)
        except RegistryImportError as error:
            plan = error.plan
        except Refusal as refusal:  # a key change without a reason: said on the form, like any field
            for entry in refusal.errors:
                form.add_error(entry["field"] if entry["field"] in form.fields else None, entry["message"])
            return TemplateResponse(request, f"{TEMPLATES}/import.html", context)
        context.update(
            plan=plan,
            source=source,
            # Only a clean plan is offered for confirmation, with the choice it was previewed with.
            confirm_form=RegistryUploadForm(
                initial={
                    "content": RegistryUploadForm.carry(content),
                    "source": source,
                    "allow_key_change": data["allow_key_change"],
                    "reason": data["reason"],
                }
            )
            if plan.ok
            else None,
        )
        return TemplateResponse(request, f"{TEMPLATES}/import.html", context)

    def export_view(self, request):
        """tools.registry.json exactly as the last import took it (the command's bytes)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(tool_registry_export_text(), content_type="application/json; charset=utf-8")
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
        """Invoke the tool as the signed-in user through the gateway (the same service as the API).

        "Invoke" is always a new call with a fresh call_id; "Replay last call" re-sends the last call's
        call_id with the same arguments, and the gateway decides (a replay from the receipt, or for a
        `none` tool a new run). The page says which of the two was asked and what the gateway did."""
        if not (self.has_perm(request, "invoke") and self.has_view_permission(request)):
            raise PermissionDenied
        tool = get_object_or_404(ToolDefinition, pk=object_id)
        replaying = request.method == "POST" and "replay" in request.POST
        posted = None if replaying else request.POST or None
        form = TryToolForm(posted, initial={"input": example_input(tool)}, user=request.user)
        replay_form = None
        call = outcome = problem = None
        if replaying:
            replayed = ReplayCallForm(request.POST, user=request.user)
            if replayed.is_valid():
                data = replayed.cleaned_data
                call = {"call_id": data["call_id"], "replay": True}
                # The invoke form shows the replayed arguments, ready for a new call with them.
                form = TryToolForm(initial={**data, "tenant": data["tenant"]}, user=request.user)
            else:
                problem = {"status": 400, "code": "validation_error", "detail": "The last call cannot be "
                           "replayed: its arguments did not come back intact. Invoke it again.",
                           "errors": [], "extra": {}}
        elif request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            call = {"call_id": f"admin-{uuid.uuid4().hex[:12]}", "replay": False}
        if call is not None:
            try:
                outcome = tool_invoke(
                    tool_name=tool.name,
                    call_id=call["call_id"],
                    input=data["input"],
                    user=request.user,
                    idempotency_key=data["idempotency_key"] or None,
                    tenant=data["tenant"],
                )
            except Refusal as refused:
                problem = {
                    "status": refused.status,
                    "code": refused.code,
                    "detail": refused.detail,
                    "errors": refused.errors,
                    "extra": refused.extra,
                }
            else:
                replay_form = ReplayCallForm.of_call(call_id=call["call_id"], data=data, user=request.user)
        context = self._context(
            request,
            f"Try {tool.name}",
            tool=tool,
            form=form,
            replay_form=replay_form,
            call=call,
            outcome=outcome,
            problem=problem,
            coverage=coverage_text(tool),
            input_schema=pretty(tool.input_schema),
            result_json=pretty(outcome.result) if outcome else "",
            receipt_url=reverse("admin:registries_toolreceipt_change", args=[outcome.receipt.pk])
            if outcome and not outcome.foreign
            else "",
        )
        return TemplateResponse(request, f"{TEMPLATES}/try.html", context)
