"""Giving and revoking firearms. Grants are never deleted or edited: revoke and grant again."""

from django.db import transaction
from django.utils import timezone

from policies.models import FirearmGrant
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import row_save


def firearm_grant_create(
    *, firearm, principal_type, reason, granted_by, user=None, group=None, tenant=None, expires_at=None
):
    """Give `firearm` to exactly one principal (user, group or tenant), recording who and why."""
    grant = FirearmGrant(
        firearm=firearm,
        principal_type=principal_type,
        user=user,
        group=group,
        tenant=tenant,
        reason=reason,
        granted_by=granted_by,
        expires_at=expires_at,
    )
    return row_save(instance=grant, user=granted_by, reason=f"granted: {reason}")


def firearm_grant_revoke(*, grant, revoked_by, reason):
    """Revoke an active grant. The row stays, with who revoked it, when and why. Refusals: 400 without
    a reason, 409 `already_revoked` (checked under the grant's row lock)."""
    if not (reason or "").strip():
        raise Refusal.invalid([field_error("reason", "required", "Say why the grant is revoked.")])
    with transaction.atomic():
        grant = FirearmGrant.objects.select_for_update().filter(pk=grant.pk).first()
        if grant is None:
            raise Refusal(404, "not_found", "No such grant.")
        if grant.revoked_at is not None:
            raise Refusal(409, "already_revoked", "This grant is already revoked.")
        grant.revoked_at = timezone.now()
        grant.revoked_by = revoked_by
        grant.revoke_reason = reason
        return row_save(instance=grant, user=revoked_by, reason=f"revoked: {reason}")
