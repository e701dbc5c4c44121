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
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from policies.models import Firearm, FirearmGrant
from workbench.kit import access
from workbench.kit.access import SYSTEM
from workbench.kit.models import stored_references
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import mark_history, row_save
from workbench.tenancy.models import Membership

PRINCIPAL = FirearmGrant.PrincipalType


def _receives(grant, user, *, group_ids=None, tenant_ids=None):
    """Whether `user` would hold the grant: its user, a member of its group, a member of its tenant.
    `group_ids` and `tenant_ids`: the user's groups and tenants, when already read (a GrantBatch)."""
    if user is SYSTEM or user is None:
        return False
    if grant.principal_type == PRINCIPAL.USER:
        return grant.user_id == user.pk
    if grant.principal_type == PRINCIPAL.GROUP:
        if group_ids is not None:
            return grant.group_id in group_ids
        return user.groups.filter(pk=grant.group_id).exists()
    if tenant_ids is not None:
        return grant.tenant_id in tenant_ids
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
        raise _not_a_member(tenant, user)
    return found


def _not_a_member(tenant, user):
    name = user if isinstance(user, str) else user.get_username()
    message = f"No user {name!r} among the members of tenant {tenant.slug!r}: grant within their tenant."
    return Refusal.invalid([field_error("user", "not_a_member", message)])


def firearm_grant_create(
    *, firearm, principal_type, reason, granted_by, tenant=None, user=None, group=None, expires_at=None
):
    """Give `firearm` to one principal within `tenant` (for a tenant grant, the tenant itself), recording
    who and why. `user` is a User or a username, a member of `tenant`. A critical firearm's grant waits
    for a second person's approval."""
    grant = _new_grant(
        firearm=firearm, principal_type=principal_type, reason=reason, granted_by=granted_by, tenant=tenant,
        user=user, group=group, expires_at=expires_at,
    )
    # Who may grant in that tenant first, so a stranger learns nothing about its members.
    access.check_write(granted_by, grant, "add")
    if principal_type == PRINCIPAL.USER or user is not None:
        grant.user = _member(tenant, user)
    if _receives(grant, granted_by):
        raise _self_grant(grant)
    return row_save(instance=grant, user=granted_by, reason=f"granted: {reason}")


def _new_grant(*, firearm, principal_type, reason, granted_by, tenant, user, group, expires_at):
    """The unsaved grant; a 400 on `tenant` without one."""
    if tenant is None:
        raise Refusal.invalid(
            [field_error("tenant", "required", "Name the tenant the grant is given within.")]
        )
    return FirearmGrant(
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


def _self_grant(grant):
    kind = grant.principal_type
    message = f"You would hold this grant yourself ({kind} {grant.principal}); someone else must give it."
    return Refusal(403, "self_grant", message, errors=[field_error(kind, "self_grant", message)])


class GrantBatch:
    """Many grants given by one person at once (a TSV import of grants).

    `add()` checks each new grant as `firearm_grant_create` checks one, and refuses it the same way: the
    access gate (who may grant in its tenant), a user principal among the tenant's members, nobody
    grants to themself, the model's validation. What those checks read is read once, not once per
    grant: the gate's answer once per tenant (adding a tenant row is decided by the row's tenant), the
    members the grants name in one query per 500 of them (`find_members`), the giver's groups and
    tenants once. The model's validation runs without a query per grant: a reference that is a row
    read from the database exists, and the check constraints are the rules `clean()` and the field
    checks apply (the database enforces them, and uid's uniqueness, on insert).

    `write()` then saves every grant added, with its history row (the giver, "granted: <reason>"), in
    bulk. Call both inside one transaction: a refused grant is for the caller to report, and nothing
    written when it does (an import writes all rows or none).
    """

    CHUNK = 500

    def __init__(self, *, granted_by):
        self.granted_by = granted_by
        self.grants = []
        self._may_add = {}  # tenant id -> None, or the Refusal the gate answered
        self._members = {}  # (tenant id, username) -> the member, or None when looked up and not one
        self._member_ids = set()  # (tenant id, user id) of members found
        self._own = None  # (group ids, tenant ids) of granted_by

    def find_members(self, pairs):
        """Look up the users named by `pairs` (tenant, username) among those tenants' members, in one
        query per 500 tenants and usernames, for `member()` to answer without a query."""
        pairs = {(tenant, name) for tenant, name in pairs if tenant is not None and name}
        tenants = sorted({tenant.pk for tenant, _ in pairs})
        names = sorted({name for _, name in pairs})
        field = get_user_model().USERNAME_FIELD
        for first in range(0, len(tenants), self.CHUNK):
            for start in range(0, len(names), self.CHUNK):
                memberships = Membership.objects.filter(
                    tenant_id__in=tenants[first : first + self.CHUNK],
                    **{f"user__{field}__in": names[start : start + self.CHUNK]},
                ).select_related("user")
                for membership in memberships:
                    self._know_member(membership.tenant_id, membership.user)
        for tenant, name in pairs:
            self._members.setdefault((tenant.pk, name), None)

    def member(self, tenant, name):
        """The member of `tenant` whose username is `name`, or None."""
        key = (tenant.pk, name)
        if key not in self._members:
            found = get_user_model()._default_manager.filter(
                **{get_user_model().USERNAME_FIELD: name}, memberships__tenant=tenant
            ).first()
            self._members[key] = None
            if found is not None:
                self._know_member(tenant.pk, found)
        return self._members[key]

    def _know_member(self, tenant_id, user):
        self._members[(tenant_id, user.get_username())] = user
        self._member_ids.add((tenant_id, user.pk))

    def add(self, grant):
        """Check `grant`, a new FirearmGrant naming its firearm, principal type and principal, tenant,
        reason and expiry (what `firearm_grant_create` is given), as `firearm_grant_create` checks one,
        and keep it for `write()`; a Refusal as `firearm_grant_create` would refuse it. Who gives it,
        whether it needs approval, and that it is neither approved nor revoked are set here."""
        if grant.pk is not None or not grant._state.adding:
            raise ValueError("GrantBatch.add takes a new grant, not a stored one.")
        if grant.tenant_id is None:
            raise Refusal.invalid(
                [field_error("tenant", "required", "Name the tenant the grant is given within.")]
            )
        granted_by = self.granted_by
        firearm = grant.firearm if grant.firearm_id is not None else None
        grant.granted_by = None if granted_by is SYSTEM else granted_by
        grant.needs_approval = bool(firearm) and firearm.severity == Firearm.Severity.CRITICAL
        grant.approved_at = grant.approved_by = grant.revoked_at = grant.revoked_by = None
        grant.revoke_reason = ""
        self._check_may_add(grant)
        if grant.principal_type == PRINCIPAL.USER or grant.user_id is not None:
            grant.user = self._member(grant.tenant, grant.user)
        group_ids, tenant_ids = self._own_groups_and_tenants()
        if _receives(grant, granted_by, group_ids=group_ids, tenant_ids=tenant_ids):
            raise _self_grant(grant)
        _clean(grant)
        mark_history(grant, user=grant.granted_by, reason=f"granted: {grant.reason}")
        self.grants.append(grant)
        return grant

    def write(self, *, batch_size=1000):
        """Save every grant added, each with its history row; returns them (with their ids)."""
        grants, self.grants = self.grants, []
        with transaction.atomic():
            return bulk_create_with_history(
                grants, FirearmGrant, batch_size=batch_size,
                default_user=None if self.granted_by is SYSTEM else self.granted_by,
            )

    def _check_may_add(self, grant):
        tenant_id = grant.tenant_id
        if tenant_id not in self._may_add:
            try:
                access.check_write(self.granted_by, grant, "add")
            except Refusal as refusal:
                self._may_add[tenant_id] = refusal
            else:
                self._may_add[tenant_id] = None
        refusal = self._may_add[tenant_id]
        if refusal is not None:  # a new exception per row, not one traceback growing with each raise
            raise Refusal(
                refusal.status, refusal.code, refusal.detail, errors=refusal.errors, **refusal.extra
            )

    def _member(self, tenant, user):
        if user is None:
            return None
        if isinstance(user, str):
            found = self.member(tenant, user)
        else:
            known = (tenant.pk, user.pk) in self._member_ids
            found = user if known else _member(tenant, user)
            if not known:
                self._know_member(tenant.pk, found)
        if found is None:
            raise _not_a_member(tenant, user)
        return found

    def _own_groups_and_tenants(self):
        user = self.granted_by
        if user is SYSTEM or user is None:
            return set(), set()
        if self._own is None:
            self._own = (
                set(user.groups.values_list("pk", flat=True)),
                set(Membership.objects.filter(user_id=user.pk).values_list("tenant_id", flat=True)),
            )
        return self._own


def _clean(grant):
    """`full_clean` as row_save runs it, without its queries: references that are stored rows are not
    looked up again, and neither uniqueness (uid is new) nor the check constraints (the same rules as
    `clean()` and the field checks) are asked of the database before the insert that enforces them."""
    try:
        grant.full_clean(exclude=stored_references(grant), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise Refusal.from_validation_error(error) from error


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
