"""The runner's stand-in: the probe services' tests run no package."""

import pytest

from tests.workbench.probes.kit import outcome


@pytest.fixture
def runner(monkeypatch):
    """Replace the runner with a stand-in: `runner.answer = outcome(...)`; `runner.calls` counts runs."""

    class Stand:
        answer = outcome()
        calls = []

        def __call__(self, probe):
            self.calls.append(probe.pk)
            return self.answer

    stand = Stand()
    stand.calls = []
    monkeypatch.setattr("workbench.services.probes.running.outcome_of", stand)
    return stand
