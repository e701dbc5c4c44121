"""Which security events a person may read: the one rule the admin, the API and the export share.

Events of a tenant are read by its members (sign-ins and tokens of a member of exactly one tenant are
that tenant's); events without a tenant (other sign-ins and tokens, group and permission changes,
platform writes) by platform staff; every event by auditors (`workbench.audit_tenants`,
held by the user or a group). Superuser status alone is platform staff, not an auditor: a superuser reads
other tenants' events only with the auditor permission, as for every other tenant row. The model's view
permission is checked by whoever asks (the admin, the API), not here."""

from django.db.models import Q

from workbench.models import SecurityEvent
from workbench.tenancy.access import is_auditor, is_platform_staff, tenant_ids


def security_events_visible_to(user):
    """The security events `user` may read, newest first, with actor and tenant joined (no query per row)."""
    events = SecurityEvent.objects.select_related("actor", "tenant")
    if not (getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None):
        return events.none()
    if is_auditor(user):
        return events
    visible = Q(tenant__in=tenant_ids(user))
    if is_platform_staff(user):
        visible |= Q(tenant__isnull=True)
    return events.filter(visible)
