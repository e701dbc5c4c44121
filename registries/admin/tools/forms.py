"""The tool registry admin's forms: schemas as pretty JSON, line lists, the registry upload and "try
this tool"."""

import json

from django import forms

from registries.models import ToolDefinition, ToolPermission
from workbench.kit import uploads
from workbench.kit.forms import SafeJSONField
from workbench.tenancy.models import Tenant


def pretty(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


class PrettyJSONField(SafeJSONField):
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


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label="tools.registry.json", required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    source = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_file(self):
        return uploads.check_upload(self.cleaned_data.get("file"))

    def clean_content(self):
        content = self.cleaned_data.get("content", "")
        if len(content.encode()) > uploads.max_bytes():
            raise forms.ValidationError(f"The file is larger than {uploads.max_bytes()} bytes.")
        return content


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
