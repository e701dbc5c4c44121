"""Who may change what (PRODUCT.md section 10): the checks, read from the one declarative table of
`workbench.tenancy.rules`.

Every row is in one of three scopes:
- **platform** rows (firearms, KPIs and corridors, the tool registry, strategy locks, routing, engine
  routes, tenants, tenant-less budgets) are written by platform staff only: superusers, and owners or
  editors of the platform tenant (`WORKBENCH_PLATFORM_TENANT`, the system tenant of
  seeds/00_system.json) who also hold the model permission. Anyone with the view permission reads them.
- **tenant** rows (drafts, budgets of a tenant, grants, memberships, receipts, usage, domain rows) are
  written by that tenant's owners (or editors, for drafts) and, where the table says so, by platform
  staff; they are read by the tenant's members and by auditors, who hold the explicit permission
  `workbench.audit_tenants` (a superuser's implicit "every permission" does not count: superuser status
  alone reveals no tenant rows in lists).
- **live** rows (published scopes, firearm bindings, KPI tool bindings, connectors) change only
  through publish and environment loads.

The table is the single source for the API's querysets and write checks, the admin's querysets and
permission hooks, the write path every service shares (`workbench.kit.rows`), the TSV imports and the
README's "Who may change what". The authorization matrix (tests/workbench/tenancy/test_api_matrix.py and
test_admin_matrix.py) checks every API operation and admin URL against it, for every role, and fails for
an operation, admin URL or model it does not know.
"""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Q

from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.tenancy.models import Membership, Tenant
from workbench.tenancy.rules import (
    EDITOR,
    LIVE,
    OWNER,
    PLATFORM,
    PUBLISHED_BY,
    TABLE,
    TENANT,
    markdown_table,
    rule_for,
)

__all__ = ["LIVE", "PLATFORM", "TABLE", "TENANT", "gate", "markdown_table", "rule_for"]
AUDIT_PERMISSION = ("workbench", "audit_tenants")


# -- who someone is --------------------------------------------------------------------------------


def platform_tenant_slug():
    return settings.WORKBENCH_PLATFORM_TENANT


def _is_person(user):
    return user is not None and user is not SYSTEM and getattr(user, "is_authenticated", False)


def is_platform_staff(user):
    """Superusers, and owners or editors of the platform tenant (the model permission is checked apart)."""
    if user is SYSTEM:
        return True
    if not _is_person(user):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user_id=user.pk, tenant__slug=platform_tenant_slug(), role__in=(OWNER, EDITOR)
    ).exists()


def is_auditor(user):
    """Holds `workbench.audit_tenants` itself or through a group; superuser status does not count."""
    if not _is_person(user):
        return False
    app_label, codename = AUDIT_PERMISSION
    held = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return held.filter(Q(user=user) | Q(group__user=user)).exists()


def tenant_ids(user, roles=None):
    """Subquery of the ids of the tenants `user` belongs to (with one of `roles`, when given)."""
    memberships = Membership.objects.filter(user_id=user.pk)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("tenant_id")


# -- reads -----------------------------------------------------------------------------------------


def readable(user, queryset):
    """Rows of `queryset` `user` may read: every platform and live row; tenant rows of their tenants,
    their own calls, and every tenant row for an auditor."""
    if not _is_person(user):
        return queryset.none()
    rule = rule_for(queryset.model)
    if rule.scope != TENANT or is_auditor(user):
        return queryset
    return queryset.filter(_read_q(rule, user))


def _read_q(rule, user):
    q = Q(**{f"{rule.tenant}__in": tenant_ids(user)})
    if rule.caller:
        q |= Q(**{rule.caller: user.pk})
    if rule.empty_is_platform:
        q |= Q(**{f"{rule.tenant}__isnull": True})
    return q


def writable(user, queryset):
    """Rows of `queryset` `user` may write (the model permission apart)."""
    if user is SYSTEM:
        return queryset
    if not _is_person(user):
        return queryset.none()
    rule = rule_for(queryset.model)
    if rule.scope == LIVE or rule.written_by:
        return queryset.none()
    # Platform staff is asked only where the rule lets it matter (a query each time).
    if rule.scope == PLATFORM:
        return queryset if is_platform_staff(user) else queryset.none()
    staff = (rule.platform_writes or rule.empty_is_platform) and is_platform_staff(user)
    if staff and rule.platform_writes:
        return queryset
    q = Q(**{f"{rule.tenant}__in": tenant_ids(user, rule.writers)})
    if staff and rule.empty_is_platform:
        q |= Q(**{f"{rule.tenant}__isnull": True})
    return queryset.filter(q)


def writable_tenants(user, model):
    """Tenants whose `model` rows `user` may write: forms offer only these."""
    rule = rule_for(model)
    if rule.scope == TENANT and not (rule.platform_writes and is_platform_staff(user)):
        if not _is_person(user):
            return Tenant.objects.none()
        return Tenant.objects.filter(pk__in=tenant_ids(user, rule.writers))
    return Tenant.objects.all() if is_platform_staff(user) else Tenant.objects.none()


def addressable(user, queryset):
    """Rows a detail page or a write may address: readable or writable. A platform editor may change a
    tenant's budget by its id, although lists of tenant rows show them only their tenants' rows."""
    return queryset.filter(
        Q(pk__in=readable(user, queryset).values("pk")) | Q(pk__in=writable(user, queryset).values("pk"))
    )


# -- writes ----------------------------------------------------------------------------------------


def reads_deleted(user, model):
    """A deleted row's tenant is no longer known from the row: its history is for those who read every
    row of the model (anyone for platform and live rows, auditors for tenant rows)."""
    if not _is_person(user):
        return False
    return rule_for(model).scope != TENANT or is_auditor(user)


def may_write(user, model):
    """Whether `user` could write some row of `model` at all (the model permission apart): offers the
    admin's add, change and delete buttons."""
    if user is SYSTEM:
        return True
    if not _is_person(user):
        return False
    rule = rule_for(model)
    if rule.scope == LIVE or rule.written_by:
        return False
    staff = is_platform_staff(user)
    if rule.scope == PLATFORM or staff:
        return staff
    return Membership.objects.filter(user_id=user.pk, role__in=rule.writers).exists()


def check_may_write(actor, model):
    """`may_write` as a refusal saying why not: live rows, rows a service writes, platform rows, tenant
    rows of no tenant the actor writes in."""
    if may_write(actor, model):
        return
    rule = rule_for(model)
    what = model._meta.verbose_name_plural
    if rule.scope == LIVE:
        raise Refusal(403, "live_binding", f"{what.capitalize()} change only through {PUBLISHED_BY}.")
    if rule.written_by:
        raise Refusal(
            403, "read_only", f"{what.capitalize()} are written by {rule.written_by}; nobody edits them."
        )
    if rule.scope == PLATFORM:
        raise _platform_refusal(what)
    writers = " or ".join(str(role) for role in rule.writers)
    raise Refusal(
        403, "tenant_scope", f"Only a tenant's {writers}s change its {what}; you are none anywhere."
    )


def check_write(actor, instance, action="change"):
    """Refuse (403, with a code saying why) unless `actor` may `action` ("add", "change", "delete") the
    row `instance`: the model permission, then the row's scope from the table. A change that moves a
    tenant row to another tenant needs the writing role in both."""
    if actor is SYSTEM:
        return
    if not _is_person(actor):
        raise Refusal(403, "permission_denied", "Sign in to change anything.")
    model = type(instance)
    rule = rule_for(model)
    opts = model._meta
    what = opts.verbose_name_plural
    if rule.scope == LIVE:
        raise Refusal(403, "live_binding", f"{what.capitalize()} change only through {PUBLISHED_BY}.")
    if rule.written_by:
        raise Refusal(
            403, "read_only", f"{what.capitalize()} are written by {rule.written_by}; nobody edits them."
        )
    permission = f"{opts.app_label}.{action}_{opts.model_name}"
    if not actor.has_perm(permission):
        raise Refusal(403, "permission_denied", f"You do not have the permission {permission}.")
    if rule.scope == PLATFORM:
        if not is_platform_staff(actor):
            raise _platform_refusal(what)
        return
    for tenant_id in _tenants_touched(instance, rule, action):
        _check_tenant_write(actor, rule, tenant_id, what)


def check_platform_write(actor, model, action="change"):
    """Refuse unless `actor` may `action` rows of the platform model `model` (whole-file imports check
    this before reading the file)."""
    if actor is SYSTEM:
        return
    if not _is_person(actor):
        raise Refusal(403, "permission_denied", "Sign in to change anything.")
    opts = model._meta
    permission = f"{opts.app_label}.{action}_{opts.model_name}"
    if not actor.has_perm(permission):
        raise Refusal(403, "permission_denied", f"You do not have the permission {permission}.")
    if not is_platform_staff(actor):
        raise _platform_refusal(opts.verbose_name_plural)


def _platform_refusal(what):
    return Refusal(
        403,
        "platform_scope",
        f"{what.capitalize()} are platform-wide: only platform staff change them (superusers, and owners "
        f"or editors of the platform tenant {platform_tenant_slug()!r}).",
    )


def _tenants_touched(instance, rule, action):
    attname = f"{rule.tenant}_id"
    touched = [getattr(instance, attname)]
    if action != "add" and instance.pk is not None:
        stored = type(instance)._base_manager.filter(pk=instance.pk).values_list(attname, flat=True).first()
        if stored != touched[0]:
            touched.append(stored)
    return touched


def _check_tenant_write(actor, rule, tenant_id, what):
    if tenant_id is None:
        if rule.empty_is_platform:
            if not is_platform_staff(actor):
                raise _platform_refusal(f"{what} without a tenant")
            return
        raise Refusal(403, "tenant_scope", f"{what.capitalize()} belong to a tenant: name one.")
    if rule.platform_writes and is_platform_staff(actor):
        return
    role = (
        Membership.objects.filter(user_id=actor.pk, tenant_id=tenant_id)
        .values_list("role", flat=True)
        .first()
    )
    if role in rule.writers:
        return
    slug = Tenant.objects.filter(pk=tenant_id).values_list("slug", flat=True).first()
    writers = " or ".join(str(role) for role in rule.writers)
    standing = f"a {role}" if role else "not a member"
    message = f"Only a {writers} of tenant {slug!r} changes its {what}; you are {standing} there."
    raise Refusal(
        403, "tenant_scope", message, errors=[field_error(rule.tenant, "tenant_scope", message)], tenant=slug
    )


class Gate:
    """The access gate the kit asks (settings.WORKBENCH_ACCESS_GATE)."""

    readable = staticmethod(readable)
    writable = staticmethod(writable)
    addressable = staticmethod(addressable)
    check_write = staticmethod(check_write)
    may_write = staticmethod(may_write)
    check_may_write = staticmethod(check_may_write)
    reads_deleted = staticmethod(reads_deleted)


gate = Gate()
