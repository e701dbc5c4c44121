"""Published specs never change; the one thing that may happen to them later is deprecation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registries.models import ComponentSpec
from workbench.kit.refusals import Refusal, field_error


def component_spec_deprecate(*, spec, message, user=None):
    """Mark a published spec version deprecated with a message telling users what to use instead.
    Refusals: 400 `message` missing or invalid, 404 no such spec."""
    if not (message or "").strip():
        raise Refusal.invalid(
            [field_error("message", "required", "Say why the version is deprecated and what to use instead.")]
        )
    with transaction.atomic():
        spec = ComponentSpec.objects.select_for_update().filter(pk=spec.pk).first()
        if spec is None:
            raise Refusal(404, "not_found", "No such spec version.")
        spec.deprecated_at = spec.deprecated_at or timezone.now()
        spec.deprecation_message = message.strip()
        try:
            spec.full_clean()
        except ValidationError as error:
            raise Refusal.from_validation_error(error, rename={"deprecation_message": "message"}) from error
        spec.save(update_fields=["deprecated_at", "deprecation_message"])
    return spec
