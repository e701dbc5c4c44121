"""Form fields every admin form shares: JSON typed into a textarea goes through the same loader as an API
body (`workbench.kit.jsontext`), so the admin refuses NUL, lone surrogates, NaN and deep nesting by path
as the API does, instead of passing them to the database or the interpreter's stack."""

from django import forms
from django.forms.fields import InvalidJSONInput, JSONString

from workbench.kit import jsontext
from workbench.kit.refusals import Refusal


def load_json_text(text):
    """The JSON value of a form's text, or a ValidationError naming the path and the reason."""
    try:
        return jsontext.loads(text, what="The value")
    except Refusal as refusal:
        problems = [f"{error['field']}: {error['message']}" for error in refusal.errors] or [refusal.detail]
        raise forms.ValidationError(problems, code=refusal.code) from None


class SafeJSONField(forms.JSONField):
    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        converted = load_json_text(value)
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data, initial):
        if self.disabled or data is None:
            return super().bound_data(data, initial)
        try:
            return load_json_text(data)
        except forms.ValidationError:
            return InvalidJSONInput(data)


#: For `formfield_overrides`: every model JSONField edited in the admin.
JSON_FORMFIELD = {"form_class": SafeJSONField}
