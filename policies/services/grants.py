"""Giving, approving and revoking firearms. Grants are never deleted or edited: revoke and grant again.

Who may: the access table (a grant is a row of its tenant: that tenant's owners and platform staff write
it), and three rules of grants themselves, checked here for the admin, the API and TSV imports alike:
- nobody grants a firearm to themself, directly, through a group they are in or through a tenant they
  belong to (403 `self_grant`);
- a user grant goes to a member of the grant's tenant (400 on `user`);
- a critical firearm's grant counts only once a second person approved it: neither who granted it nor
  who receives it (403 `approval_by_second_person`).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from policies.models import Firearm, FirearmGrant
from workbench.kit import access
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import row_save
from workbench.tenancy.models import Membership

PRINCIPAL = FirearmGrant.PrincipalType


def _receives(grant, user):
    """Whether `user` would hold the grant: its user, a member of its group, a member of its tenant."""
    if user is SYSTEM or user is None:
        return False
    if grant.principal_type == PRINCIPAL.USER:
        return grant.user_id == user.pk
    if grant.principal_type == PRINCIPAL.GROUP:
        return user.groups.filter(pk=grant.group_id).exists()
    return Membership.objects.filter(tenant_id=grant.tenant_id, user_id=user.pk).exists()


def _member(tenant, user):
    """The user principal among `tenant`'s members: a User, or a username as the API sends it (looked up
    only among the tenant's members, so an answer tells nothing about users elsewhere)."""
    if user is None:
        return None
    if isinstance(user, str):
        found = get_user_model()._default_manager.filter(
            **{get_user_model().USERNAME_FIELD: user}, memberships__tenant=tenant
        ).first()
    else:
        found = user if Membership.objects.filter(tenant=tenant, user_id=user.pk).exists() else None
    if found is None:
        name = user if isinstance(user, str) else user.get_username()
        message = f"No user {name!r} among the members of tenant {tenant.slug!r}: grant within their tenant."
        raise Refusal.invalid([field_error("user", "not_a_member", message)])
    return found


def firearm_grant_create(
    *, firearm, principal_type, reason, granted_by, tenant=None, user=None, group=None, expires_at=None
):
    """Give `firearm` to one principal within `tenant` (for a tenant grant, the tenant itself), recording
    who and why. `user` is a User or a username, a member of `tenant`. A critical firearm's grant waits
    for a second person's approval."""
    grant = FirearmGrant(
        firearm=firearm,
        principal_type=principal_type,
        user=None if isinstance(user, str) else user,
        group=group,
        tenant=tenant,
        reason=reason,
        granted_by=None if granted_by is SYSTEM else granted_by,
        expires_at=expires_at,
        needs_approval=bool(firearm) and firearm.severity == Firearm.Severity.CRITICAL,
    )
    if tenant is None:
        raise Refusal.invalid(
            [field_error("tenant", "required", "Name the tenant the grant is given within.")]
        )
    # Who may grant in that tenant first, so a stranger learns nothing about its members.
    access.check_write(granted_by, grant, "add")
    if principal_type == PRINCIPAL.USER or user is not None:
        grant.user = _member(tenant, user)
    if _receives(grant, granted_by):
        message = (
            f"You would hold this grant yourself ({principal_type} {grant.principal}); "
            "someone else must give it."
        )
        raise Refusal(403, "self_grant", message, errors=[field_error(principal_type, "self_grant", message)])
    return row_save(instance=grant, user=granted_by, reason=f"granted: {reason}")


def firearm_grant_approve(*, grant, approved_by):
    """Approve a grant that needs a second person (a critical firearm). Refusals: 409 `no_approval_needed`
    or `already_approved`, 403 `approval_by_second_person` for its granter or a receiver."""
    with transaction.atomic():
        grant = FirearmGrant.objects.select_for_update().filter(pk=grant.pk).first()
        if grant is None:
            raise Refusal(404, "not_found", "No such grant.")
        access.check_write(approved_by, grant, "change")
        if not grant.needs_approval:
            raise Refusal(409, "no_approval_needed", "This grant needs no approval.")
        if grant.approved_at is not None:
            raise Refusal(409, "already_approved", f"This grant was approved by {grant.approved_by}.")
        if grant.revoked_at is not None:
            raise Refusal(409, "already_revoked", "This grant is revoked.")
        if approved_by is not SYSTEM and (
            grant.granted_by_id == approved_by.pk or _receives(grant, approved_by)
        ):
            raise Refusal(
                403,
                "approval_by_second_person",
                "A critical grant is approved by a second person: neither who granted it nor who holds it.",
            )
        grant.approved_at = timezone.now()
        grant.approved_by = None if approved_by is SYSTEM else approved_by
        return row_save(instance=grant, user=approved_by, reason="approved")


def firearm_grant_revoke(*, grant, revoked_by, reason):
    """Revoke an active grant. The row stays, with who revoked it, when and why. Refusals: 400 without
    a reason, 409 `already_revoked` (checked under the grant's row lock)."""
    if not (reason or "").strip():
        raise Refusal.invalid([field_error("reason", "required", "Say why the grant is revoked.")])
    with transaction.atomic():
        grant = FirearmGrant.objects.select_for_update().filter(pk=grant.pk).first()
        if grant is None:
            raise Refusal(404, "not_found", "No such grant.")
        access.check_write(revoked_by, grant, "change")
        if grant.revoked_at is not None:
            raise Refusal(409, "already_revoked", "This grant is already revoked.")
        grant.revoked_at = timezone.now()
        grant.revoked_by = None if revoked_by is SYSTEM else revoked_by
        grant.revoke_reason = reason
        return row_save(instance=grant, user=revoked_by, reason=f"revoked: {reason}")
