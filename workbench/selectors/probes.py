"""Which probes a person may see, and the probes of a draft's revisions."""

from workbench.kit import access
from workbench.models import Probe


def probes_visible_to(user):
    """Probes of the user's tenants (every probe for an auditor); another tenant's do not exist for them."""
    return access.readable(user, Probe.objects.all())


def latest_check_of_revision(*, draft_id, revision, finished=True):
    """The newest check probe of one revision of a draft (only finished ones, unless `finished` is False),
    or None. One query."""
    probes = Probe.objects.filter(kind=Probe.Kind.CHECK, draft_id=draft_id, draft_revision=revision)
    if finished:
        probes = probes.filter(status__in=Probe.FINISHED)
    return probes.order_by("-created_at", "-id").first()


def latest_checks_by_revision(draft):
    """{revision: newest check probe of it}, newest revision first, with who asked. One query."""
    latest = {}
    probes = (
        Probe.objects.filter(kind=Probe.Kind.CHECK, draft_id=draft.pk)
        .select_related("requested_by")
        .order_by("-draft_revision", "-created_at", "-id")
    )
    for probe in probes:
        latest.setdefault(probe.draft_revision, probe)
    return latest
