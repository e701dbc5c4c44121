"""Two workers given the same probe on PostgreSQL, each in its own thread and connection: the claim
"queued -> running" is taken once, so the package runs once and one outcome is stored."""

import threading
import time

import pytest

from tests.workbench.factories import ProbeFactory
from tests.workbench.probes.kit import outcome
from tests.workbench.test_drafts_concurrency import run_at_once
from workbench.models import Probe
from workbench.services.probes import probe_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_racing_for_a_queued_probe_run_it_once(on_postgres, monkeypatch):
    probe = ProbeFactory(status="queued", started_at=None, finished_at=None, tools=[])
    runs = []
    lock = threading.Lock()

    def slow_runner(claimed):
        with lock:
            runs.append(claimed.pk)
        time.sleep(0.2)  # the other worker tries its claim while this one runs
        return outcome()

    monkeypatch.setattr("workbench.services.probes.running.outcome_of", slow_runner)
    results = run_at_once([lambda: probe_run(probe_id=probe.pk)] * 2)
    assert sorted(value is None for kind, value in results) == [False, True], results
    assert runs == [probe.pk]
    stored = Probe.objects.get(pk=probe.pk)
    assert stored.status == "succeeded" and stored.tools
