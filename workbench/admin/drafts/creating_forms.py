"""Forms of the pages that start a draft: a new (or next) version, and import from an MCP server."""

from django import forms

from workbench.contract import packaging_choices, packaging_problems
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
    """The tools/list result (pasted or uploaded) and, optionally, the package the server runs from:
    registry type, identifier, exact version and transport, judged by the contract's packaging rule
    (workbench.contract.packaging_problems), as the API's import-mcp and the draft service judge them."""

    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    registry_type = forms.ChoiceField(
        label="Package registry",
        required=False,
        initial="npm",
        choices=[("", "---------"), *packaging_choices("registry_type")],
        help_text="Where the server's package is published; leave the package empty for none.",
    )
    identifier = forms.CharField(
        label="Package",
        required=False,
        max_length=500,
        help_text="npm: @modelcontextprotocol/server-github; PyPI: mcp-server-git; "
        "OCI: ghcr.io/acme/github-mcp (an image reference).",
    )
    package_version = forms.CharField(
        label="Package version", required=False, max_length=64,
        help_text="An exact version: no ranges, not 'latest'.",
    )
    transport = forms.ChoiceField(
        required=False,
        initial="stdio",
        choices=packaging_choices("transport"),
    )
    tools_json = forms.CharField(
        label="tools/list result",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100, "spellcheck": "false"}),
        help_text="Paste the JSON the server answered to tools/list.",
    )
    tools_file = forms.FileField(label="…or upload it", required=False)

    #: packaging key -> the form field that edits it
    PACKAGING_FIELDS = {
        "registry_type": "registry_type",
        "identifier": "identifier",
        "version": "package_version",
        "transport": "transport",
    }

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
        packaging = self.packaging()
        for path, messages in packaging_problems(packaging).items() if packaging else ():
            # A field already refused (not one of the choices) is left out of the packaging, which
            # would then say it is missing too: one message, on the field, is enough.
            if self.PACKAGING_FIELDS.get(path.removeprefix("packaging.")) not in self.errors:
                self.add_packaging_error(path, messages)
        return cleaned

    def add_packaging_error(self, path, messages):
        """Put a `packaging.<key>` problem (the form's or the service's) on the field that edits it."""
        name = self.PACKAGING_FIELDS.get(path.removeprefix("packaging."))
        if name in self.fields and name not in self.errors:
            self.add_error(name, messages)
        else:
            self.add_error(None, [f"{path}: {message}" for message in messages])

    def packaging(self):
        """The packaging the fields give: {} when neither a package nor its version is given (the registry
        select and the transport have defaults, so alone they give no package)."""
        data = self.cleaned_data
        given = {key: (data.get(name) or "").strip() for key, name in self.PACKAGING_FIELDS.items()}
        if not (given["identifier"] or given["version"]):
            return {}
        return {key: value for key, value in given.items() if value}
