"""The security events nobody has to remember to record: Django's sign-in signals, django-axes' lockout,
model signals for API tokens, group and permission changes, staff flags and tenant memberships, and the
kit's `row_written` for platform-scope writes.

Model signals run inside the transaction of the save or delete that sends them (the admin's, a service's,
an environment load's), so each event commits or rolls back with its change. Deletions are recorded on
`pre_delete`: a cascade sets the foreign keys of rows pointing at deleted rows to NULL after every
pre_delete and before the rows go, so an event written then about a tenant's membership is cleared with
the tenant's other events instead of pointing at a tenant that no longer exists.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.utils import timezone
from knox.models import AuthToken
from simple_history.models import HistoricalRecords

from workbench.kit import access
from workbench.kit.rows import row_written
from workbench.tenancy.models import Membership, Tenant
from workbench.tenancy.rules import PLATFORM, TABLE

from .recording import Kind, audit_record

User = get_user_model()
#: The flags that change what a user may do; a change of any is a permission change.
USER_FLAGS = ("is_superuser", "is_staff", "is_active")
#: Rows whose writes have kinds of their own (token_created, token_revoked).
OWN_KINDS = {"knox.authtoken"}
DISPATCH_PREFIX = "workbench.audit."


def current_actor(instance=None):
    """Who changes `instance`: the user a service named for its history row (`row_save` marks it), else
    whoever the request being served is signed in as (simple-history's middleware holds the request;
    imports run from a command put their user there); None outside both."""
    marked = getattr(instance, "_history_user", None)
    if marked is not None:
        return marked
    request = getattr(HistoricalRecords.context, "request", None)
    return getattr(request, "user", None)


# -- sign-ins ----------------------------------------------------------------------------------------


def logged_in(sender, request, user, **kwargs):
    audit_record(
        kind=Kind.LOGIN_SUCCEEDED,
        actor=user,
        subject=user.get_username(),
        tenant=sole_tenant_id(user.pk),
        request=request,
    )


def sole_tenant_id(user_id):
    """The tenant of a user who belongs to exactly one (its members then read the user's sign-ins and
    tokens); None for a member of none or of several, whose events stay the auditors' and platform staff's."""
    tenants = list(Membership.objects.filter(user_id=user_id).values_list("tenant_id", flat=True)[:2])
    return tenants[0] if len(tenants) == 1 else None


def login_failed(sender, credentials, request=None, **kwargs):
    credentials = credentials if isinstance(credentials, dict) else {}
    username = credentials.get(User.USERNAME_FIELD, credentials.get("username", ""))
    detail = {"locked_out": True} if getattr(request, "axes_locked_out", False) else None
    audit_record(kind=Kind.LOGIN_FAILED, subject=username or "", request=request, detail=detail)


def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes sends this for every attempt refused during a lockout too (each counts as a further failure):
    # only the attempt that reaches the limit starts a lockout worth an event; the others are login_failed
    # events marked locked_out. (Two attempts racing past the limit at once may both read a count past it
    # and leave no event; their login_failed events remain.)
    from axes.helpers import get_failure_limit

    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures != get_failure_limit(
        request, getattr(request, "axes_credentials", None)
    ):
        return
    audit_record(
        kind=Kind.LOCKED_OUT, subject=username or "", request=request, detail={"ip_address": ip_address}
    )


# -- API tokens ---------------------------------------------------------------------------------------


def token_saved(sender, instance, created, **kwargs):
    if created:
        audit_record(kind=Kind.TOKEN_CREATED, actor=current_actor(instance), **_token_fields(instance))


def token_deleting(sender, instance, **kwargs):
    fields = _token_fields(instance)
    expired = instance.expiry is not None and instance.expiry < timezone.now()
    fields["detail"]["reason"] = "expired" if expired else "revoked"
    audit_record(kind=Kind.TOKEN_REVOKED, actor=current_actor(instance), **fields)


def _token_fields(token):
    username = _username_of(token.user_id)
    expiry = token.expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if token.expiry else None
    return {
        "subject": f"token {token.token_key} of {username}",
        "tenant": sole_tenant_id(token.user_id),
        "detail": {"user": username, "token_key": token.token_key, "expiry": expiry},
    }


def _username_of(user_id):
    return User._base_manager.filter(pk=user_id).values_list(User.USERNAME_FIELD, flat=True).first()


# -- groups and permissions ---------------------------------------------------------------------------


def _relations():
    """through model -> (the owner whose rights change, what it gains or loses, the event's kind)"""
    return {
        User.groups.through: ("user", "group", Kind.GROUP_CHANGED),
        User.user_permissions.through: ("user", "permission", Kind.PERMISSION_CHANGED),
        Group.permissions.through: ("group", "permission", Kind.PERMISSION_CHANGED),
    }


def m2m_changed_receiver(sender, instance, action, reverse, model, pk_set, **kwargs):
    owner_field, other_field, kind = _relations()[sender]
    if action in ("post_add", "post_remove"):
        ids = pk_set or set()
        verb = "added" if action == "post_add" else "removed"
    elif action == "pre_clear":
        # What is about to go: pk_set is None for a clear, so the rows are read before they are.
        column = f"{owner_field if not reverse else other_field}_id"
        other = f"{other_field if not reverse else owner_field}_id"
        ids = set(sender.objects.filter(**{column: instance.pk}).values_list(other, flat=True))
        verb = "removed"
    else:
        return
    if not ids:
        return
    pairs = [(pk, instance.pk) for pk in ids] if reverse else [(instance.pk, pk) for pk in ids]
    owners = _labels(owner_field, {owner for owner, _ in pairs})
    others = _labels(other_field, {other for _, other in pairs})
    actor = current_actor()
    for owner_pk in sorted(owners):
        gained = sorted(others[other] for owner, other in pairs if owner == owner_pk and other in others)
        audit_record(
            kind=kind,
            actor=actor,
            subject=f"{owner_field} {owners[owner_pk]}",
            detail={f"{verb}_{other_field}s": gained},
        )


def _labels(field, pks):
    if field == "user":
        rows = User._base_manager.filter(pk__in=pks).values_list("pk", User.USERNAME_FIELD)
    elif field == "group":
        rows = Group.objects.filter(pk__in=pks).values_list("pk", "name")
    else:
        found = Permission.objects.filter(pk__in=pks).values_list("pk", "content_type__app_label", "codename")
        rows = [(pk, f"{app_label}.{codename}") for pk, app_label, codename in found]
    return dict(rows)


def user_saving(sender, instance, update_fields=None, **kwargs):
    # A fixture's row (raw) may be new or stored whatever _state says: its key decides.
    if instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(USER_FLAGS):
        return  # a sign-in's last_login, a password change: no flag can have changed
    instance._audit_flags = User._base_manager.filter(pk=instance.pk).values(*USER_FLAGS).first()


def user_saved(sender, instance, created, **kwargs):
    if created:
        changes = {flag: [None, True] for flag in ("is_superuser", "is_staff") if getattr(instance, flag)}
    else:
        before = instance.__dict__.pop("_audit_flags", None) or {}
        changes = {
            flag: [before[flag], getattr(instance, flag)]
            for flag in USER_FLAGS
            if flag in before and before[flag] != getattr(instance, flag)
        }
    if changes:
        audit_record(
            kind=Kind.PERMISSION_CHANGED,
            actor=current_actor(instance),
            subject=f"user {instance.get_username()}",
            detail={"created": True, **changes} if created else changes,
        )


def group_saving(sender, instance, **kwargs):
    if instance.pk is not None:
        instance._audit_name = Group.objects.filter(pk=instance.pk).values_list("name", flat=True).first()


def group_saved(sender, instance, created, **kwargs):
    before = instance.__dict__.pop("_audit_name", None)
    if created:
        detail = {"created": True}
    elif before is not None and before != instance.name:
        detail = {"name": [before, instance.name]}
    else:
        return
    _group_event(instance, detail)


def group_deleting(sender, instance, **kwargs):
    _group_event(instance, {"deleted": True})


def _group_event(group, detail):
    audit_record(
        kind=Kind.GROUP_CHANGED, actor=current_actor(group), subject=f"group {group.name}", detail=detail
    )


# -- tenant memberships -------------------------------------------------------------------------------


def membership_saving(sender, instance, **kwargs):
    if instance.pk is not None:
        instance._audit_before = (
            Membership.objects.filter(pk=instance.pk).values("tenant_id", "user_id", "role").first()
        )


def membership_saved(sender, instance, created, **kwargs):
    before = instance.__dict__.pop("_audit_before", None)
    same_place = before and (before["tenant_id"], before["user_id"]) == (instance.tenant_id, instance.user_id)
    if created or not same_place:
        if before:  # moved to another tenant or user: the old membership is gone
            removed = {"removed": True, "role": before["role"]}
            _membership_event(Kind.MEMBERSHIP_CHANGED, instance, before, removed)
        added = {"added": True, "role": instance.role}
        _membership_event(Kind.MEMBERSHIP_CHANGED, instance, _row(instance), added)
    elif before["role"] != instance.role:
        changed = {"role": [before["role"], instance.role]}
        _membership_event(Kind.ROLE_CHANGED, instance, _row(instance), changed)


def membership_deleting(sender, instance, **kwargs):
    removed = {"removed": True, "role": instance.role}
    _membership_event(Kind.MEMBERSHIP_CHANGED, instance, _row(instance), removed)


def _row(membership):
    return {"tenant_id": membership.tenant_id, "user_id": membership.user_id, "role": membership.role}


def _membership_event(kind, membership, row, detail):
    username = _username_of(row["user_id"])
    slug = Tenant.objects.filter(pk=row["tenant_id"]).values_list("slug", flat=True).first()
    audit_record(
        kind=kind,
        actor=current_actor(membership),
        subject=f"user {username} in {slug}",
        tenant=row["tenant_id"],
        detail=detail,
    )


# -- platform-scope writes ----------------------------------------------------------------------------


def row_written_receiver(sender, actor, instance, action, reason="", detail=None, platform=False, **kwargs):
    if actor is access.SYSTEM:
        return  # environment loads record one event per load (record_platform_write), not one per row
    if sender is None or not (platform or is_platform_write(sender, instance)):
        return
    record_platform_write(
        actor=actor, model=sender, instance=instance, action=action, reason=reason, detail=detail
    )


def is_platform_write(model, instance):
    """Whether writing `instance` (None: rows of `model` in bulk) acts outside any tenant: platform rows
    (the access table), and tenant rows without a tenant where the table makes those platform rows."""
    label = model._meta.label_lower
    rule = TABLE.get(label)
    if rule is None or label in OWN_KINDS:
        return False
    if rule.scope == PLATFORM:
        return True
    return rule.empty_is_platform and instance is not None and getattr(instance, f"{rule.tenant}_id") is None


def record_platform_write(*, actor, action, model=None, instance=None, subject="", reason="", detail=None):
    """One platform-scope write as a security event: what (the model and row, or `subject`), how
    (`action`: add, change, delete, import, load) and why."""
    if not subject:
        label = model._meta.label_lower if model is not None else ""
        subject = f"{label} {instance}" if instance is not None else label
    key = {"pk": str(instance.pk)} if instance is not None else {}
    detail = {"action": action, **key, **(detail or {})}
    if reason:
        detail["reason"] = reason
    return audit_record(kind=Kind.PLATFORM_WRITE, actor=actor, subject=subject, detail=detail)


# -- wiring ---------------------------------------------------------------------------------------------


def connect():
    """Connect every receiver (WorkbenchConfig.ready); dispatch_uids keep a second call harmless."""

    def hook(signal, receiver, sender=None):
        signal.connect(receiver, sender=sender, dispatch_uid=f"{DISPATCH_PREFIX}{receiver.__name__}.{sender}")

    hook(user_logged_in, logged_in)
    hook(user_login_failed, login_failed)
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        hook(user_locked_out, locked_out)
    hook(post_save, token_saved, AuthToken)
    hook(pre_delete, token_deleting, AuthToken)
    for through in _relations():
        hook(m2m_changed, m2m_changed_receiver, through)
    hook(pre_save, user_saving, User)
    hook(post_save, user_saved, User)
    hook(pre_save, group_saving, Group)
    hook(post_save, group_saved, Group)
    hook(pre_delete, group_deleting, Group)
    hook(pre_save, membership_saving, Membership)
    hook(post_save, membership_saved, Membership)
    hook(pre_delete, membership_deleting, Membership)
    hook(row_written, row_written_receiver)
