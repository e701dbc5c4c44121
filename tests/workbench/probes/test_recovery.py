"""Probes and their tasks lost with a worker or never picked up (issue 16 review): with django-tasks-db
the task row is written in the probe's own transaction; a task row left RUNNING by a dead worker is
marked failed as the backend marks one; a queued probe whose task is gone or ended, or that waited past
WORKBENCH_PROBE_QUEUE_SECONDS, is marked failed; an enqueue that fails after commit (other backends)
fails the probe with the reason."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory, token_client
from tests.workbench.probes.kit import editor
from workbench.kit.refusals import Refusal
from workbench.models import Probe
from workbench.services.probes import probe_request_check, probes_fail_overdue, run_probe_task
from workbench.services.probes.recovery import NOT_PICKED_UP, TASK_LOST, WorkerLost

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PERMS = ["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"]


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


def _draft():
    return WorkbenchDraftFactory(owner=editor(perms=PERMS))


def _task_of(probe):
    return DBTaskResult.objects.get(task_path=run_probe_task.module_path, args_kwargs__args=[probe.pk])


def test_the_task_row_is_written_with_the_probe_in_one_transaction(database_tasks):
    draft = _draft()
    probe = probe_request_check(user=draft.owner, draft_id=draft.pk)
    assert _task_of(probe).status == TaskResultStatus.READY
    # Rolled back with whatever the probe's transaction is part of: neither the probe nor its task stays.
    with pytest.raises(RuntimeError), transaction.atomic():
        probe_request_check(user=draft.owner, draft_id=draft.pk)
        assert Probe.objects.count() == DBTaskResult.objects.count() == 2
        raise RuntimeError("the request failed after asking")
    assert Probe.objects.count() == DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the worker opens its own transactions, as in production
def test_a_database_worker_runs_the_enqueued_probe(database_tasks, runner):
    draft = _draft()
    probe = probe_request_check(user=draft.owner, draft_id=draft.pk)
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--max-tasks", "1",
                 stdout=io.StringIO(), stderr=io.StringIO())
    probe.refresh_from_db()
    assert probe.status == "succeeded" and runner.calls == [probe.pk]
    assert _task_of(probe).status == TaskResultStatus.SUCCESSFUL


def test_an_enqueue_failing_in_the_transaction_is_a_503_and_leaves_no_probe(database_tasks, monkeypatch):
    from django_tasks_db import DatabaseBackend

    def broken(self, task, args, kwargs):
        raise DatabaseError("the task table is gone")

    monkeypatch.setattr(DatabaseBackend, "enqueue", broken)
    draft = _draft()
    answer = token_client(draft.owner).post(f"/api/v1/drafts/{draft.pk}/probe/", format="json")
    assert answer.status_code == 503, answer.content
    assert answer.json()["code"] == "probe_queue_unavailable"
    assert not Probe.objects.exists()


def test_an_enqueue_failing_after_commit_fails_the_probe_with_the_reason(
    monkeypatch, django_capture_on_commit_callbacks
):
    # The tests' immediate backend keeps no rows here, so its enqueue runs once the probe commits.
    from django_tasks.backends.immediate import ImmediateBackend

    def broken(self, task, args, kwargs):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(ImmediateBackend, "enqueue", broken)
    draft = _draft()
    with django_capture_on_commit_callbacks(execute=True):
        answer = token_client(draft.owner).post(f"/api/v1/drafts/{draft.pk}/probe/", format="json")
    assert answer.status_code == 202
    probe = Probe.objects.get()
    assert probe.status == "failed" and probe.finished_at is not None
    assert probe.reason == "The probe could not be handed to a worker (ConnectionError); start it again."


def _running_task(probe, started_ago):
    task = _task_of(probe)
    task.status = TaskResultStatus.RUNNING
    task.started_at = timezone.now() - started_ago
    task.worker_ids = ["dead-worker"]
    task.save()
    return task


def test_a_worker_dead_after_taking_the_task_but_before_claiming_the_probe(database_tasks, settings):
    draft = _draft()
    probe = probe_request_check(user=draft.owner, draft_id=draft.pk)
    limits = settings.WORKBENCH_PROBE_INSTALL_SECONDS + settings.WORKBENCH_PROBE_RUN_SECONDS
    task = _running_task(probe, timedelta(seconds=limits + 30))
    # Within the longest a probe may run (limits + 60 s grace), nothing is touched.
    assert probes_fail_overdue() == 0
    task.started_at = timezone.now() - timedelta(seconds=limits + 61)
    task.save()
    assert probes_fail_overdue() == 1
    task.refresh_from_db()
    probe.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED and task.finished_at is not None
    # Read back through the backend, as it reads a task that raised.
    result = run_probe_task.get_backend().get_result(str(task.pk))
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class is WorkerLost
    assert probe.status == "failed" and probe.reason == TASK_LOST


def test_a_worker_dead_while_running_the_probe_fails_task_and_probe(database_tasks):
    draft = _draft()
    probe = probe_request_check(user=draft.owner, draft_id=draft.pk)
    task = _running_task(probe, timedelta(hours=2))
    Probe.objects.filter(pk=probe.pk).update(
        status="running", started_at=timezone.now() - timedelta(hours=2),
        deadline_at=timezone.now() - timedelta(hours=1),
    )
    assert probes_fail_overdue() == 1
    task.refresh_from_db()
    probe.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert probe.status == "failed" and "worker stopped" in probe.reason


def test_a_queued_probe_whose_task_is_gone_or_ended_is_failed_and_a_waiting_one_kept(database_tasks):
    draft = _draft()
    waiting = probe_request_check(user=draft.owner, draft_id=draft.pk)
    pruned = probe_request_check(user=draft.owner, draft_id=draft.pk)
    ended = probe_request_check(user=draft.owner, draft_id=draft.pk)
    _task_of(pruned).delete()
    DBTaskResult.objects.filter(pk=_task_of(ended).pk).update(status=TaskResultStatus.FAILED)
    taken = probe_request_check(user=draft.owner, draft_id=draft.pk)
    _running_task(taken, timedelta(seconds=5))  # a live worker has it, about to claim the probe
    assert probes_fail_overdue() == 2
    states = dict(Probe.objects.values_list("pk", "status"))
    assert states == {waiting.pk: "queued", pruned.pk: "failed", ended.pk: "failed", taken.pk: "queued"}
    assert Probe.objects.get(pk=pruned.pk).reason == TASK_LOST


def test_reading_a_probe_through_the_api_fails_it_when_its_task_is_gone(database_tasks):
    draft = _draft()
    probe = probe_request_check(user=draft.owner, draft_id=draft.pk)
    _task_of(probe).delete()
    answer = token_client(draft.owner).get(f"/api/v1/probes/{probe.pk}/").json()
    assert answer["status"] == "failed" and answer["reason"] == TASK_LOST


def test_a_probe_queued_past_the_bound_is_failed_whatever_the_backend(settings):
    settings.WORKBENCH_PROBE_QUEUE_SECONDS = 600
    stale = ProbeFactory(status="queued", started_at=None, finished_at=None)
    fresh = ProbeFactory(status="queued", started_at=None, finished_at=None)
    Probe.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(seconds=601))
    Probe.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - timedelta(seconds=599))
    out = io.StringIO()
    call_command("probes_recover", stdout=out)
    assert out.getvalue().strip() == "1 lost probe marked failed."
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == "failed" and stale.reason == NOT_PICKED_UP.format(seconds=600)
    assert fresh.status == "queued"


def test_a_refused_request_queues_no_task(database_tasks):
    draft = WorkbenchDraftFactory()
    with pytest.raises(Refusal):
        probe_request_check(user=editor(perms=PERMS), draft_id=draft.pk)
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)  # as a worker runs it: no transaction around the task
def test_a_long_run_s_stale_connections_are_dropped_before_the_outcome_is_stored(runner, monkeypatch):
    from workbench.services.probes import running

    probe = ProbeFactory(draft=_draft(), status="queued", started_at=None, finished_at=None)
    order = []
    store = running.probe_store
    monkeypatch.setattr(running, "close_old_connections", lambda: order.append("close_old_connections"))
    monkeypatch.setattr(running, "probe_store", lambda **kw: order.append("store") or store(**kw))
    run_probe_task.call(probe.pk)
    probe.refresh_from_db()
    assert probe.status == "succeeded"
    assert order == ["close_old_connections", "store"]
