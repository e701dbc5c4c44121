"""Admin page "Import from server.json": a server listed in an MCP registry becomes a draft with its
metadata (packaging, description, repository, remotes, website) and, when its tools/list result is given
too, its tools with scopes proposed from their annotations. The draft service checks everything; the
page puts each of its errors on the field it is about."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html

from workbench.kit import identifiers as ids
from workbench.kit import uploads
from workbench.kit.admin import page_context
from workbench.kit.refusals import Refusal
from workbench.selectors.drafts import tenants_of
from workbench.services.drafts import draft_import_server_json

from .views import _card_url

JSON_AREA = {"rows": 14, "cols": 100, "spellcheck": "false"}


class ImportServerJsonForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None)
    connector_id = forms.CharField(
        max_length=63,
        required=False,
        validators=[ids.validate_connector_id],
        help_text="Leave empty to take the last part of the server's name (io.github.acme/weather -> "
        "weather). A live connector starts from its latest version.",
    )
    server_json = forms.CharField(
        label="server.json",
        required=False,
        widget=forms.Textarea(attrs=JSON_AREA),
        help_text="Paste the server.json (MCP Registry schema 2025-09-29). Its _meta is ignored.",
    )
    server_file = forms.FileField(label="…or upload it", required=False)
    tools_json = forms.CharField(
        label="tools/list result",
        required=False,
        widget=forms.Textarea(attrs=JSON_AREA),
        help_text="Optional: the JSON the server answered to tools/list; scopes are proposed from the "
        "tools' annotations.",
    )
    tools_file = forms.FileField(label="…or upload it", required=False)

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        if tenants.count() == 1:
            self.fields["tenant"].initial = tenants.first()

    def clean_server_file(self):
        return uploads.check_upload(self.cleaned_data.get("server_file"))

    def clean_tools_file(self):
        return uploads.check_upload(self.cleaned_data.get("tools_file"))

    def clean(self):
        cleaned = super().clean()
        # Uploads stay bytes: the JSON loader reads them as UTF-8 and refuses anything else with a reason.
        cleaned["server"] = _read(cleaned.get("server_file")) or cleaned.get("server_json") or None
        cleaned["tools_list"] = _read(cleaned.get("tools_file")) or cleaned.get("tools_json") or None
        if cleaned["server"] is None and not self.has_error("server_file"):
            self.add_error("server_json", "Paste or upload the server.json.")
        return cleaned

    def add_refusal(self, refusal):
        """Each error of the service's refusal on the field it names: the server.json's paths on the
        server.json field, the tools' on the tools/list field, the rest (403s too) above the form."""
        for entry in refusal.errors or [{"field": "", "message": refusal.detail}]:
            field, message = entry.get("field") or "", entry["message"]
            if field == "server" or field.startswith("server."):
                self.add_error(self._source("server"), f"{field}: {message}")
            elif field == "tools_list" or field.startswith("tools"):
                self.add_error(self._source("tools"), f"{field}: {message}")
            elif field in ("tenant", "connector_id"):
                self.add_error(field, message)
            else:
                self.add_error(None, f"{field}: {message}" if field else message)

    def _source(self, what):
        # The error goes where the document came from: the upload when one was sent, else the text.
        return f"{what}_file" if self.cleaned_data.get(f"{what}_file") else f"{what}_json"


def _read(upload):
    return upload.read() if upload else None


def import_server_json_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    tenants = tenants_of(request.user, writable=True)
    form = ImportServerJsonForm(request.POST or None, request.FILES or None, tenants=tenants)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draft = draft_import_server_json(
                tenant=data["tenant"],
                user=request.user,
                document=data["server"],
                tools_list=data["tools_list"],
                connector_id=data["connector_id"] or None,
                reason="imported from server.json in the admin",
            )
        except Refusal as refusal:
            form.add_refusal(refusal)
        else:
            spec = draft.spec_snapshot
            messages.success(
                request,
                format_html(
                    'Draft <a href="{}">{}</a> opened for {} {} with {} tools{}. Decide a firearm for each '
                    "scope, then validate.",
                    _card_url(draft.pk),
                    draft.pk,
                    draft.connector_id,
                    spec.get("version"),
                    len(spec.get("tools") or []),
                    "" if data["tools_list"] else " (no tools/list given: add the tools on the card)",
                ),
            )
            return HttpResponseRedirect(_card_url(draft.pk))
    return TemplateResponse(
        request,
        "admin/workbench/workbenchdraft/simple_form.html",
        page_context(
            model_admin,
            request,
            "Import from server.json",
            form=form,
            submit="Import",
            multipart=True,
            no_tenant=not tenants.exists(),
            media=model_admin.media + form.media,
        ),
    )
