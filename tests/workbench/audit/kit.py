"""What the audit trail's admin and export tests share: three fixed events (tenant A, tenant B, no tenant)
and the people who read them."""

from datetime import UTC, datetime

from tests.workbench.factories import MembershipFactory, StaffFactory, TenantFactory, platform_staff
from workbench.models import SecurityEvent
from workbench.services.audit import Kind, audit_record

VIEW = "workbench.view_securityevent"
SUBJECTS = ("event-a", "event-b", "event-none")


def fixed_events(rf):
    """Tenants a and b, and one event in each and one without a tenant, at fixed times. Every event the
    set-up itself recorded (users, memberships) is purged first, so only these three exist."""
    tenant_a, tenant_b = TenantFactory(slug="tenant-a"), TenantFactory(slug="tenant-b")
    people = {
        "member_a": _member(tenant_a, "member-a"),
        "member_b": _member(tenant_b, "member-b"),
        "platform": platform_staff([VIEW], auditor=False, username="platform"),
        "auditor": StaffFactory(username="auditor", perms=[VIEW, "workbench.audit_tenants"]),
        "no_view": _member(tenant_a, "no-view", perms=()),
    }
    SecurityEvent.objects.all().purge()
    request = rf.get("/", REMOTE_ADDR="192.0.2.10")
    made = [
        audit_record(
            kind=Kind.ROLE_CHANGED, actor=people["member_a"], subject="event-a", tenant=tenant_a,
            request=request, detail={"role": ["viewer", "owner"]},
        ),
        audit_record(
            kind=Kind.MEMBERSHIP_CHANGED, subject="event-b", tenant=tenant_b, detail={"added": True}
        ),
        audit_record(kind=Kind.LOGIN_FAILED, subject="event-none", request=request),
    ]
    for minute, event in enumerate(made):
        at = datetime(2026, 3, 1, 12, minute, 30, tzinfo=UTC)
        SecurityEvent._base_manager.filter(pk=event.pk).update(at=at)
    return people, {"a": tenant_a, "b": tenant_b}


def _member(tenant, username, perms=(VIEW,)):
    user = StaffFactory(username=username, perms=list(perms))
    MembershipFactory(tenant=tenant, user=user, role="viewer")
    return user


#: who reads which of the three events
VISIBLE = {
    "member_a": {"event-a"},
    "member_b": {"event-b"},
    "platform": {"event-none"},
    "auditor": {"event-a", "event-b", "event-none"},
}
