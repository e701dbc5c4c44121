"""Serializer pieces every API app shares.

`RowSaveSerializer` is the write path for plain registry and policy rows: DRF only parses and
type-checks the input, then the instance is built and saved through `workbench.kit.rows.row_save`
(full_clean + save in a transaction), so the API refuses exactly what the admin refuses, with the
admin's messages, keyed by field.
"""

from django.db import transaction
from rest_framework import serializers

from workbench.kit.rows import history_reason, row_save


def request_change_reason(request):
    """Why the row changed, for its history row: clients may say it in the X-Change-Reason header."""
    if request is None:
        return ""
    return history_reason(request.headers.get("X-Change-Reason", ""))


class RowSaveSerializer(serializers.ModelSerializer):
    """ModelSerializer whose create/update go through `row_save`, so the model's full_clean is the one judge.

    Validators derived from the model (formats, uniqueness, unique constraints) are left to full_clean
    instead of being run twice with DRF's wording; parsing, required fields and choices stay with DRF.
    Many-to-many values are set after the row is saved, in the same transaction.
    """

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        field_kwargs.pop("validators", None)
        return field_class, field_kwargs

    def get_validators(self):
        return list(getattr(getattr(self, "Meta", None), "validators", None) or [])

    def _split_many_to_many(self, validated_data):
        names = {field.name for field in self.Meta.model._meta.many_to_many}
        return {name: validated_data.pop(name) for name in list(validated_data) if name in names}

    def create(self, validated_data):
        many = self._split_many_to_many(validated_data)
        return self.save_row(self.Meta.model(**validated_data), many)

    def update(self, instance, validated_data):
        many = self._split_many_to_many(validated_data)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return self.save_row(instance, many)

    def save_row(self, instance, many):
        # A row the model refuses comes back as the service's Refusal (400, one entry per field).
        with transaction.atomic():
            request = self.context["request"]
            row_save(instance=instance, user=request.user, reason=request_change_reason(request))
            for name, values in many.items():
                getattr(instance, name).set(values)
        return instance


class ReasonSerializer(serializers.Serializer):
    """Body of state-changing actions (revoke, engage, release): why."""

    reason = serializers.CharField(allow_blank=False, trim_whitespace=True)


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Field or row path; null for the whole request.")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An application/problem+json body (RFC 9457), as workbench.kit.api.errors writes it; schema only."""

    type = serializers.CharField(default="about:blank")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. validation_error, protected.")
    errors = ProblemErrorSerializer(many=True, required=False)
