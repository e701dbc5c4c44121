"""Giving and revoking firearms. Grants are never deleted or edited: revoke and grant again."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from policies.models import FirearmGrant
from workbench.services.rows import row_save


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
    return row_save(instance=grant, reason=f"granted: {reason}")


def firearm_grant_revoke(*, grant, revoked_by, reason):
    """Revoke an active grant. The row stays, with who revoked it, when and why."""
    if not (reason or "").strip():
        raise ValidationError({"revoke_reason": "Say why the grant is revoked."})
    with transaction.atomic():
        grant = FirearmGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.revoked_at is not None:
            raise ValidationError({"revoked_at": "This grant is already revoked."}, code="already_revoked")
        grant.revoked_at = timezone.now()
        grant.revoked_by = revoked_by
        grant.revoke_reason = reason
        return row_save(instance=grant, reason=f"revoked: {reason}")
