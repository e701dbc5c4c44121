"""Fields of the draft card that edit a part of the spec as text: portability and skills as JSON checked
against the MCP contract (one error per problem, with its path), and the declared entitlements one per
line. The tools are rows of the grid (grid.py)."""

import json

from django import forms

from workbench.contract import section_findings
from workbench.kit.forms import load_json_text


class SpecSectionJsonField(forms.CharField):
    """One property of the spec (`portability`, `skills`) as JSON, checked against the MCP contract;
    one error per problem with its path."""

    def __init__(self, *, section, empty, **kwargs):
        self.section, self.empty = section, empty
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": 6, "cols": 100, "class": "vLargeTextField", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        document = load_json_text(text or json.dumps(self.empty))
        if not isinstance(document, type(self.empty)):
            kind = "a JSON object" if isinstance(self.empty, dict) else "a JSON array"
            raise forms.ValidationError(f"{self.label or self.section.capitalize()} must be {kind}.")
        problems = [
            f"{item['path']}: {item['message']}"
            for item in section_findings(self.section, document, self.section)
        ]
        if problems:
            raise forms.ValidationError(problems)
        return document

    def prepare_value(self, value):
        return value if isinstance(value, str) else json.dumps(value or self.empty, indent=2)


class EntitlementsField(forms.CharField):
    """Declared billing entitlements, one per line (stored as `portability.entitlements`)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60, "spellcheck": "false"})

    def to_python(self, value):
        lines = [line.strip() for line in (super().to_python(value) or "").splitlines()]
        return [line for line in lines if line]

    def validate(self, value):
        super().validate(value)
        problems = [
            f"entitlements{item['path'][len('portability.entitlements'):]}: {item['message']}"
            for item in section_findings("portability", {"entitlements": value}, "portability")
        ]
        if problems:
            raise forms.ValidationError(problems)

    def prepare_value(self, value):
        return value if isinstance(value, str) else "\n".join(value or [])
