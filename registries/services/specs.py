"""Published specs never change; what may happen to them later is deprecation, and to a connector, a
transfer of its ownership. Both are platform staff's (PRODUCT.md section 10)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registries.models import ComponentSpec, Connector
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import announce_write, mark_history
from workbench.tenancy.access import check_platform_write


def component_spec_deprecate(*, spec, message, user):
    """Mark a published spec version deprecated with a message telling users what to use instead.
    Refusals: 403 not platform staff, 400 `message` missing or invalid, 404 no such spec."""
    check_platform_write(user, type(spec), "change")
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
        announce_write(
            actor=user,
            model=ComponentSpec,
            instance=spec,
            action="change",
            reason=spec.deprecation_message,
            detail={"deprecated": True},
        )
    return spec


def connector_transfer(*, connector, tenant, user, reason):
    """Give `connector` to `tenant`: its members then draft and publish its next versions. Platform staff
    only (403 `platform_scope`); the connector's history keeps who, when and why. Refusals: 400 without
    a reason, 404 no such connector, 409 `no_change` when the tenant already owns it."""
    check_platform_write(user, Connector, "change")
    if not (reason or "").strip():
        raise Refusal.invalid([field_error("reason", "required", "Say why the connector changes hands.")])
    with transaction.atomic():
        connector = (
            Connector.objects.select_for_update().select_related("owner").filter(pk=connector.pk).first()
        )
        if connector is None:
            raise Refusal(404, "not_found", "No such connector.")
        if connector.owner_id == tenant.pk:
            raise Refusal(409, "no_change", f"Tenant {tenant.slug!r} already owns {connector.connector_id}.")
        previous = connector.owner.slug
        connector.owner = tenant
        mark_history(
            connector,
            user=None if user is SYSTEM else user,
            reason=f"owner {previous} -> {tenant.slug}: {reason}",
        )
        connector.save(update_fields=["owner"])
        announce_write(
            actor=user,
            model=Connector,
            instance=connector,
            action="change",
            reason=reason,
            detail={"owner": [previous, tenant.slug]},
            platform=True,
        )
    return connector
