"""The tool registry admin's forms: schemas as pretty JSON, the registry upload and "try this
tool"."""

import json

from django import forms

from workbench.kit import uploads
from workbench.kit.admin.exchange import UploadLost, carried_upload, carry_upload
from workbench.kit.forms import SafeJSONField
from workbench.kit.models import REASON_LIMIT
from workbench.tenancy.models import Tenant


def pretty(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


class PrettyJSONField(SafeJSONField):
    """A JSON textarea that shows the value indented, so a schema reads like the registry file."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 90, "class": "json-text"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class RegistryUploadForm(forms.Form):
    """The registry upload, then its confirmation. The confirmation carries the file compressed and signed
    (the kit's `carry_upload`, as the TSV imports do), so what is imported is the previewed file byte for
    byte (a plain form field would turn its line ends into CRLF), and the export gives those bytes back."""

    file = forms.FileField(label="tools.registry.json", required=False)
    content = forms.CharField(widget=forms.HiddenInput, required=False)
    source = forms.CharField(widget=forms.HiddenInput, required=False)
    allow_key_change = forms.BooleanField(
        required=False,
        label="Change the keyed tools' list",
        help_text="Deliberately let this file make a keyed tool of the list non-keyed, key it by another "
        "field or drop it; the file's keyed tools become the list. Needs a reason.",
    )
    reason = forms.CharField(
        required=False,
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why the keyed tools' list changes: kept with the import and in the tools' history.",
    )

    def clean_file(self):
        return uploads.check_upload(self.cleaned_data.get("file"))

    def clean_content(self):
        carried = self.cleaned_data.get("content", "")
        if not carried:
            return b""
        try:
            return carried_upload(carried)
        except UploadLost as lost:
            raise forms.ValidationError(str(lost)) from None

    @staticmethod
    def carry(content):
        """The hidden value that brings `content` (bytes) back on confirmation."""
        return carry_upload(content)


class TryToolForm(forms.Form):
    """One new call: the page gives every invoke a fresh call_id (reusing one with another input is the
    gateway's 422, not what someone trying a tool twice means)."""

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


class ReplayCallForm(TryToolForm):
    """"Replay last call": the last call's call_id with the same arguments, carried in hidden fields, so
    the gateway answers it as it answers any repeated call_id (README "Tool registry and gateway")."""

    call_id = forms.CharField(max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One line of JSON: a hidden field carries it back as it was.
        self.fields["input"] = SafeJSONField(widget=forms.HiddenInput)
        for name in ("idempotency_key", "tenant"):
            self.fields[name].widget = forms.HiddenInput()

    @classmethod
    def of_call(cls, *, call_id, data, user):
        """The form replaying the call just made with `data` (a TryToolForm's cleaned_data)."""
        tenant = data.get("tenant")
        return cls(
            initial={
                "call_id": call_id,
                "input": data["input"],
                "idempotency_key": data.get("idempotency_key") or "",
                "tenant": tenant.slug if tenant else "",
            },
            user=user,
        )


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
