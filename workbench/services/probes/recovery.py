"""Probes lost with their worker: one still running past its deadline (started_at plus its limits) is
marked failed, so none stays running forever. Called before a probe is read and when workers start
(`manage.py probes_recover`)."""

from django.db.models import Q
from django.utils import timezone

from workbench.models import Probe

LOST = "The worker stopped while running it (still running past its deadline); start the probe again."


def probes_fail_overdue(*, probe_ids=None, now=None):
    """Mark running probes past their deadline failed (all of them, or those of `probe_ids`); one UPDATE,
    which a worker finishing the same probe cannot undo (it stores only a probe still running). Returns
    how many were marked."""
    now = now or timezone.now()
    overdue = Probe.objects.filter(
        Q(deadline_at__lt=now) | Q(deadline_at__isnull=True), status=Probe.Status.RUNNING
    )
    if probe_ids is not None:
        overdue = overdue.filter(pk__in=list(probe_ids))
    return overdue.update(status=Probe.Status.FAILED, reason=LOST, finished_at=now)
