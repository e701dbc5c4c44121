"""Published specs never change; the one thing that may happen to them later is deprecation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registries.models import ComponentSpec


def component_spec_deprecate(*, spec, message):
    """Mark a published spec version deprecated with a message telling users what to use instead."""
    if not (message or "").strip():
        raise ValidationError(
            {"deprecation_message": "Say why the version is deprecated and what to use instead."}
        )
    with transaction.atomic():
        spec = ComponentSpec.objects.select_for_update().get(pk=spec.pk)
        spec.deprecated_at = spec.deprecated_at or timezone.now()
        spec.deprecation_message = message.strip()
        spec.full_clean()
        spec.save(update_fields=["deprecated_at", "deprecation_message"])
    return spec
