"""What the access table implies for a role and a row, written out plainly from TABLE's declarations (not
by calling the checks under test): who reads, who writes, what an operation answers."""

from workbench.tenancy.access import LIVE, PLATFORM, TABLE, TENANT

ALLOWED = "allowed"  # any answer past authorization (2xx, or a 4xx/5xx about the request itself)


def rule(label):
    return TABLE[label]


def reads(role, label, scope):
    """`scope`: "A" (a row of tenant A), "none" (a tenant row without tenant) or "platform"."""
    current = rule(label)
    if current.scope != TENANT or role.auditor:
        return True
    if scope == "none":
        return current.empty_is_platform
    return bool(role.tenant_a)


def writes(role, label, scope):
    current = rule(label)
    if current.scope == LIVE or current.written_by:
        return False
    if current.scope == PLATFORM:
        return role.platform_staff
    if scope == "none":
        return current.empty_is_platform and role.platform_staff
    if current.platform_writes and role.platform_staff:
        return True
    return role.tenant_a in current.writers


def writes_somewhere(role, label):
    """Could write some row of the model (the API's check before the body, the admin's add button)."""
    current = rule(label)
    if current.scope == LIVE or current.written_by:
        return False
    if current.scope == PLATFORM or role.platform_staff:
        return role.platform_staff
    memberships = [role.tenant_a, role.tenant_b, role.platform]
    return any(tenant_role in current.writers for tenant_role in memberships)


def addressable(role, label, scope):
    return reads(role, label, scope) or writes(role, label, scope)


def perm(label, action):
    app, model = label.split(".")
    return f"{app}.{action}_{model}"
