"""Grant and lock services: who may give, approve and revoke a grant, and engage a lock (the access table
and the grants' own rules), and why each leaves on the history row, whatever the length of the reason."""

import pytest

from policies.models import Firearm
from policies.selectors import holds_firearm
from policies.services import (
    firearm_grant_approve,
    firearm_grant_create,
    firearm_grant_revoke,
    strategy_lock_engage,
    strategy_lock_release,
    strategy_lock_update,
)
from tests.policies.factories import FirearmFactory, StrategyLockFactory
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
)
from workbench.kit.refusals import Refusal
from workbench.kit.rows import history_reason

pytestmark = pytest.mark.django_db

LONG = "because " * 30  # 240 characters: longer than simple-history's 100-character reason column
GRANT_PERMS = ["policies.add_firearmgrant", "policies.change_firearmgrant", "policies.view_firearmgrant"]
LOCK_PERMS = ["policies.add_strategylock", "policies.change_strategylock", "policies.view_strategylock"]


def member(tenant, role="editor", perms=()):
    return MembershipFactory(tenant=tenant, user=UserFactory(perms=list(perms)), role=role).user


def owner(tenant):
    return member(tenant, "owner", GRANT_PERMS)


def refused(call, **kwargs):
    with pytest.raises(Refusal) as refusal:
        call(**kwargs)
    return refusal.value


def test_a_long_grant_and_revoke_reason_is_kept_whole_on_the_row_and_cut_on_the_history():
    tenant = TenantFactory()
    grant = firearm_grant_create(
        firearm=FirearmFactory(),
        principal_type="user",
        tenant=tenant,
        user=member(tenant),
        granted_by=owner(tenant),
        reason=LONG,
    )
    grant = firearm_grant_revoke(grant=grant, revoked_by=owner(tenant), reason=LONG)
    assert (grant.reason, grant.revoke_reason) == (LONG, LONG)
    reasons = [row.history_change_reason for row in grant.history.order_by("history_id")]
    assert reasons == [history_reason(f"granted: {LONG}"), history_reason(f"revoked: {LONG}")]
    assert all(len(reason) == 100 and reason.endswith("…") for reason in reasons)


def test_a_long_lock_reason_is_kept_whole_on_the_lock():
    lock = strategy_lock_engage(lock=StrategyLockFactory(), user=platform_staff(LOCK_PERMS), reason=LONG)
    assert lock.reason == LONG
    assert lock.history.latest().history_change_reason == history_reason(f"engaged: {LONG}")


def test_a_tenants_owner_grants_to_its_members_within_it_only():
    acme, other = TenantFactory(slug="acme"), TenantFactory(slug="other")
    firearm, granter, alice = FirearmFactory(), owner(acme), member(acme)
    base = {"firearm": firearm, "principal_type": "user", "reason": "On call", "granted_by": granter}

    grant = firearm_grant_create(**base, tenant=acme, user=alice)
    assert (grant.tenant, grant.user, grant.granted_by, grant.needs_approval) == (acme, alice, granter, False)
    assert holds_firearm(firearm=firearm, user=alice, tenant=acme)
    assert not holds_firearm(firearm=firearm, user=alice, tenant=other)  # a grant counts in its tenant only

    elsewhere = refused(firearm_grant_create, **base, tenant=other, user=member(other))
    assert (elsewhere.status, elsewhere.code) == (403, "tenant_scope")
    stranger = refused(firearm_grant_create, **base, tenant=acme, user=UserFactory())
    assert (stranger.status, [error["field"] for error in stranger.errors]) == (400, ["user"])
    no_tenant = refused(firearm_grant_create, **base, tenant=None, user=alice)
    assert (no_tenant.status, [error["field"] for error in no_tenant.errors]) == (400, ["tenant"])
    editor = member(acme, "editor", GRANT_PERMS)  # an editor of the tenant is no owner
    assert refused(firearm_grant_create, **{**base, "granted_by": editor}, tenant=acme, user=alice).code == (
        "tenant_scope"
    )
    without_permission = member(acme, "owner")
    denied = refused(
        firearm_grant_create, **{**base, "granted_by": without_permission}, tenant=acme, user=alice
    )
    assert (denied.status, denied.code) == (403, "permission_denied")
    # Platform staff grant in any tenant.
    staff = platform_staff(GRANT_PERMS)
    granted = firearm_grant_create(**{**base, "granted_by": staff}, tenant=other, user=member(other))
    assert granted.tenant == other


@pytest.mark.parametrize("principal", ["user", "group", "tenant"])
def test_nobody_grants_to_themself(principal):
    acme = TenantFactory()
    granter = owner(acme)
    target = {
        "user": {"user": granter},
        "group": {"group": GroupFactory()},
        "tenant": {},
    }[principal]
    if principal == "group":
        granter.groups.add(target["group"])
    refusal = refused(
        firearm_grant_create, firearm=FirearmFactory(), principal_type=principal, tenant=acme,
        reason="me", granted_by=granter, **target,
    )
    assert (refusal.status, refusal.code) == (403, "self_grant")
    assert not acme.firearm_grants.exists()


def test_a_critical_firearms_grant_counts_once_a_second_person_approves_it():
    acme = TenantFactory()
    critical = FirearmFactory(severity=Firearm.Severity.CRITICAL)
    granter, alice = owner(acme), member(acme, perms=GRANT_PERMS)
    grant = firearm_grant_create(
        firearm=critical, principal_type="user", tenant=acme, user=alice, reason="Payroll", granted_by=granter
    )
    assert (grant.needs_approval, grant.approved_at, grant.status()) == (True, None, "awaiting approval")
    assert not holds_firearm(firearm=critical, user=alice, tenant=acme)

    refusal = refused(firearm_grant_approve, grant=grant, approved_by=granter)
    assert (refusal.status, refusal.code) == (403, "approval_by_second_person")
    # Alice, who would hold it, is no owner: she may not approve anything in acme at all.
    assert refused(firearm_grant_approve, grant=grant, approved_by=alice).code == "tenant_scope"
    # An owner who would hold a grant does not approve it either.
    holder = owner(acme)
    held = firearm_grant_create(
        firearm=critical, principal_type="user", tenant=acme, user=holder, reason="Pay", granted_by=granter
    )
    refusal = refused(firearm_grant_approve, grant=held, approved_by=holder)
    assert (refusal.status, refusal.code) == (403, "approval_by_second_person")
    second = owner(acme)
    grant = firearm_grant_approve(grant=grant, approved_by=second)
    assert (grant.approved_by, grant.status()) == (second, "active")
    assert holds_firearm(firearm=critical, user=alice, tenant=acme)
    assert grant.history.latest().history_user == second
    assert refused(firearm_grant_approve, grant=grant, approved_by=owner(acme)).code == "already_approved"


def test_revoking_needs_the_change_permission_and_an_owner_of_the_tenant_or_platform_staff():
    acme = TenantFactory()
    grant = firearm_grant_create(
        firearm=FirearmFactory(), principal_type="user", tenant=acme, user=member(acme), reason="x",
        granted_by=owner(acme),
    )
    for person, code in [
        (member(acme, "editor", GRANT_PERMS), "tenant_scope"),
        (owner(TenantFactory()), "tenant_scope"),
        (member(acme, "owner", ["policies.view_firearmgrant"]), "permission_denied"),
    ]:
        refusal = refused(firearm_grant_revoke, grant=grant, revoked_by=person, reason="no")
        assert (refusal.status, refusal.code) == (403, code)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    staff = platform_staff(GRANT_PERMS)
    assert firearm_grant_revoke(grant=grant, revoked_by=staff, reason="rotation").revoked_by == staff


def test_locks_are_engaged_released_and_edited_by_platform_staff_with_the_permission_only():
    lock = StrategyLockFactory(description="before")
    engaged = StrategyLockFactory(engaged=True, reason="incident")
    tenant_owner = member(TenantFactory(), "owner", LOCK_PERMS)
    for person, code in [(tenant_owner, "platform_scope"), (platform_staff(), "permission_denied")]:
        for call, target, kwargs in [
            (strategy_lock_engage, lock, {"reason": "x"}),
            (strategy_lock_release, engaged, {"reason": "x"}),
            (strategy_lock_update, lock, {}),
        ]:
            target.description = "edited"
            refusal = refused(call, lock=target, user=person, **kwargs)
            assert (refusal.status, refusal.code) == (403, code), (person, call)
    lock.refresh_from_db()
    engaged.refresh_from_db()
    assert (lock.engaged, lock.description, engaged.engaged) == (False, "before", True)
    staff = platform_staff(LOCK_PERMS)
    assert strategy_lock_engage(lock=lock, user=staff, reason="incident").engaged
    lock.description = "after"
    assert strategy_lock_update(lock=lock, user=staff).description == "after"
