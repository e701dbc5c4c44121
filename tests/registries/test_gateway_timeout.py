"""timeout_ms: an overrun is a `timeout` receipt and a 504, and nothing the handler wrote is kept.

Slow Python is caught by the wall-clock check after the handler returns; a slow statement is stopped by
the database itself (PostgreSQL statement_timeout, SQLite progress handler) - the receipt says which.
"""

import pytest
from django.db import connection

from policies.models import UsageEvent
from registries.models import Task, ToolDefinition, ToolReceipt
from registries.services.gateway import tool_invoke
from tests.registries.gateway_kit import invoker_with_perm, probe_tool
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db


def timed_out(name, input, *, mode="safe-retry"):
    probe_tool(name, mode=mode, timeout_ms=150)
    user = invoker_with_perm()
    with pytest.raises(Refusal) as error:
        tool_invoke(tool_name=name, call_id="slow", input=input, user=user)
    assert (error.value.status, error.value.code) == (504, "timeout")
    receipt = ToolReceipt.objects.get()
    assert (receipt.status, receipt.error["code"], receipt.call_slot, receipt.key_slot) == (
        "timeout",
        "timeout",
        None,
        None,
    )
    assert Task.objects.count() == 0, "the handler's rows must be rolled back"
    assert UsageEvent.objects.filter(call_id="slow").count() == 1
    return receipt, user


def test_slow_python_is_rolled_back_after_the_wall_clock_check(probes):
    receipt, _ = timed_out("probe.slow_write", {"title": "t", "seconds": 0.4})
    assert "nothing it did was kept" in receipt.error["detail"]


def test_a_slow_statement_is_stopped_by_the_database(probes):
    receipt, _ = timed_out("probe.slow_query", {"title": "t", "seconds": 30})
    assert "the database stopped it" in receipt.error["detail"]


def test_a_timed_out_call_can_be_retried(probes):
    _, user = timed_out("probe.slow_write", {"title": "t", "seconds": 0.4})
    ToolDefinition.objects.filter(name="probe.slow_write").update(timeout_ms=5000)
    retry = tool_invoke(
        tool_name="probe.slow_write", call_id="slow", input={"title": "t", "seconds": 0}, user=user
    )
    assert retry.replayed is False and retry.receipt.status == "succeeded"


def test_the_statement_timeout_does_not_outlive_the_call(probes, on_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    probe_tool(timeout_ms=1234)
    tool_invoke(tool_name="probe.touch", call_id="quick", input={"title": "t"}, user=invoker_with_perm())
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before
