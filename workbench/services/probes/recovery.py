"""Probes and their tasks lost with a worker, or never picked up, are marked failed, so none stays running
or queued forever. Called before a probe is read and when workers start (`manage.py probes_recover`).

Three ways a probe gets stuck, each ended here:
- its worker died while running it: the probe is still running past its deadline (started_at plus its
  limits plus a grace);
- the worker died while running its task (django-tasks-db's row stays RUNNING forever): a task row of
  `run_probe_task` running longer than any probe may is marked failed, as the backend marks a task that
  raised;
- the worker died after taking the task but before claiming the probe, or the task is gone: a queued probe
  whose task row is no longer waiting or running is marked failed; and one queued longer than
  WORKBENCH_PROBE_QUEUE_SECONDS (no worker picked it up) too.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from workbench.models import Probe

LOST = "The worker stopped while running it (still running past its deadline); start the probe again."
TASK_LOST = "The worker stopped before it started the probe (its task ended or is gone); start it again."
NOT_PICKED_UP = (
    "No worker started it within {seconds} s of its request (are workers running?); "
    "start it again."
)
#: Past its install and run limits, a running probe gets this long to store its outcome before it is
#: taken for lost with its worker.
DEADLINE_GRACE = timedelta(seconds=60)


class WorkerLost(Exception):  # noqa: N818 - the name a task row shows as its exception class
    """A task row's exception class when its worker stopped while running it (importable by that path, as
    the backend's results import it)."""


def probe_deadline(started_at):
    return started_at + running_bound()


def running_bound():
    """The longest a probe (or its task) may run: its install and run limits plus the grace."""
    limits = settings.WORKBENCH_PROBE_INSTALL_SECONDS + settings.WORKBENCH_PROBE_RUN_SECONDS
    return timedelta(seconds=limits) + DEADLINE_GRACE


def database_backend():
    """django-tasks-db's backend for the probe task, or None (the immediate backend of the tests keeps no
    task rows)."""
    from django_tasks_db import DatabaseBackend

    from .running import run_probe_task

    backend = run_probe_task.get_backend()
    return backend if isinstance(backend, DatabaseBackend) else None


def _probe_task_rows():
    from django_tasks_db.models import DBTaskResult

    from .running import run_probe_task

    return DBTaskResult.objects.filter(task_path=run_probe_task.module_path)


def tasks_fail_overdue(*, now=None):
    """Mark task rows of `run_probe_task` still RUNNING past the longest a probe may run failed, with the
    fields the backend's own `set_failed` writes. One UPDATE; returns how many."""
    if database_backend() is None:
        return 0
    now = now or timezone.now()
    return (
        _probe_task_rows()
        .filter(status=TaskResultStatus.RUNNING, started_at__lt=now - running_bound())
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=f"{WorkerLost.__qualname__}: the worker stopped while running this task.\n",
        )
    )


def _queued_without_task(queued_ids):
    """Of the queued probes `queued_ids`, those no task row waits for or runs (its worker died before it
    claimed the probe, or the row was pruned)."""
    if not queued_ids or database_backend() is None:
        return set()
    alive = set()
    rows = _probe_task_rows().filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    for args_kwargs in rows.values_list("args_kwargs", flat=True):
        args = args_kwargs.get("args") if isinstance(args_kwargs, dict) else None
        kwargs = args_kwargs.get("kwargs") if isinstance(args_kwargs, dict) else None
        if args:
            alive.add(args[0])
        if isinstance(kwargs, dict) and "probe_id" in kwargs:
            alive.add(kwargs["probe_id"])
    return set(queued_ids) - alive


def probes_fail_overdue(*, probe_ids=None, now=None):
    """Mark lost probes failed (all of them, or those of `probe_ids`): running past their deadline, queued
    with no task left to run them, queued past WORKBENCH_PROBE_QUEUE_SECONDS; and lost task rows of the
    probe task. Each probe UPDATE is conditional on the status it read, so a worker that claims or finishes
    a probe meanwhile is never undone. Returns how many probes were marked."""
    now = now or timezone.now()
    tasks_fail_overdue(now=now)
    probes = Probe.objects.all()
    if probe_ids is not None:
        probes = probes.filter(pk__in=list(probe_ids))
    overdue = probes.filter(
        Q(deadline_at__lt=now) | Q(deadline_at__isnull=True), status=Probe.Status.RUNNING
    )
    count = overdue.update(status=Probe.Status.FAILED, reason=LOST, finished_at=now)
    queue_seconds = settings.WORKBENCH_PROBE_QUEUE_SECONDS
    count += probes.filter(
        status=Probe.Status.QUEUED, created_at__lt=now - timedelta(seconds=queue_seconds)
    ).update(status=Probe.Status.FAILED, reason=NOT_PICKED_UP.format(seconds=queue_seconds), finished_at=now)
    queued = list(probes.filter(status=Probe.Status.QUEUED).values_list("pk", flat=True))
    orphans = _queued_without_task(queued)
    if orphans:
        count += Probe.objects.filter(pk__in=orphans, status=Probe.Status.QUEUED).update(
            status=Probe.Status.FAILED, reason=TASK_LOST, finished_at=now
        )
    return count
