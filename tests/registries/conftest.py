"""Fixtures the gateway tests share."""

import pytest

from tests.registries.gateway_kit import PROBE_PACKAGES, invoker_with_perm


@pytest.fixture
def probes(settings):
    """Test handlers (slow, crashing, wrong output, counting) next to the real ones."""
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES


@pytest.fixture
def caller():
    return invoker_with_perm()
