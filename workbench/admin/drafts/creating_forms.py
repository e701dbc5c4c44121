"""Forms of the pages that start a draft: a new (or next) version, and import from an MCP server."""

from django import forms

from workbench.kit import identifiers as ids
from workbench.kit import uploads


class DraftAddForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=None)
    connector_id = forms.CharField(
        max_length=63,
        validators=[ids.validate_connector_id],
        help_text="Fixed after creation. A live connector starts from its latest version.",
    )
    name = forms.CharField(max_length=200, required=False, help_text="Fixed after creation.")
    version = forms.CharField(max_length=32, initial="1.0.0", validators=[ids.validate_semver])

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        if tenants.count() == 1:
            self.fields["tenant"].initial = tenants.first()


class ImportMcpForm(DraftAddForm):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    identifier = forms.CharField(
        label="npm package",
        required=False,
        max_length=200,
        help_text="e.g. @modelcontextprotocol/server-github",
    )
    package_version = forms.CharField(label="Package version", required=False, max_length=64)
    tools_json = forms.CharField(
        label="tools/list result",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100, "spellcheck": "false"}),
        help_text="Paste the JSON the server answered to tools/list.",
    )
    tools_file = forms.FileField(label="…or upload it", required=False)

    def clean_tools_file(self):
        return uploads.check_upload(self.cleaned_data.get("tools_file"))

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("tools_file")
        if upload:
            cleaned["tools_list"] = upload.read().decode("utf-8", errors="replace")
        elif cleaned.get("tools_json"):
            cleaned["tools_list"] = cleaned["tools_json"]
        else:
            raise forms.ValidationError("Paste or upload the tools/list result.")
        return cleaned

    def packaging(self):
        packaging = {}
        if self.cleaned_data.get("identifier"):
            packaging = {
                "registry_type": "npm",
                "identifier": self.cleaned_data["identifier"],
                "transport": "stdio",
            }
        if self.cleaned_data.get("package_version"):
            packaging["version"] = self.cleaned_data["package_version"]
        return packaging
