"""Across processes, through the database only: real threads, each with its own PostgreSQL connection."""

from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from policies.models import UsageEvent
from registries.models import Lead, Task, ToolReceipt
from registries.services.gateway import tool_invoke
from tests.policies.factories import BudgetPolicyFactory
from tests.registries.gateway_kit import (
    PROBE_PACKAGES,
    invoker_with_perm,
    load_seed_registry,
    probe_tool,
    run_in_threads,
)
from tests.workbench.factories import MembershipFactory, TenantFactory
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db(transaction=True)


def outcome_kind(result):
    if isinstance(result, Refusal):
        return f"{result.status} {result.code}"
    if isinstance(result, Exception):
        return f"error {result!r}"
    return "replayed" if result.replayed else "executed"


def test_sixteen_concurrent_creates_of_one_phone_make_one_lead(on_postgres):
    load_seed_registry()
    # Four callers of one tenant: the key value is the tenant's, whoever of it asks (without a tenant
    # each caller would have a keyed slot of their own).
    tenant = TenantFactory()
    users = [MembershipFactory(tenant=tenant, user=invoker_with_perm()).user for _ in range(4)]
    phone = "+15550199"

    def create(index):
        return tool_invoke(
            tool_name="leads.create",
            call_id=f"call-{index}",
            input={"phone": phone, "name": "Ann"},
            user=users[index % 4],
        )

    results = run_in_threads(16, create)
    kinds = Counter(outcome_kind(result) for result in results)
    assert kinds["executed"] == 1, kinds
    assert set(kinds) <= {"executed", "replayed", "409 call_in_progress"}, kinds
    assert Lead.objects.filter(phone=phone).count() == 1
    assert ToolReceipt.objects.filter(tool_name="leads.create", status="succeeded").count() == 1
    assert ToolReceipt.objects.count() == 1
    lead_id = Lead.objects.get().pk
    assert {r.result["lead_id"] for r in results if not isinstance(r, Exception)} == {lead_id}


def test_concurrent_safe_retries_of_one_call_id_run_the_handler_once(on_postgres, settings):
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    probe_tool(mode="safe-retry")
    user = invoker_with_perm()

    def retry(index):
        # `hold` keeps the first call running while the others arrive.
        return tool_invoke(
            tool_name="probe.touch", call_id="one-call", input={"title": "once", "hold": 0.3}, user=user
        )

    results = run_in_threads(8, retry)
    kinds = Counter(outcome_kind(result) for result in results)
    assert kinds["executed"] == 1, kinds
    assert set(kinds) <= {"executed", "replayed", "409 call_in_progress"}, kinds
    assert Task.objects.filter(title="once").count() == 1  # the handler's effect, counted in the database
    assert ToolReceipt.objects.count() == 1
    # Once it finished, every retry is a replay of the same result.
    later = tool_invoke(
        tool_name="probe.touch", call_id="one-call", input={"title": "once", "hold": 0.3}, user=user
    )
    assert later.replayed and Task.objects.count() == 1


def test_concurrent_calls_of_a_none_tool_all_run(on_postgres, settings):
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    probe_tool(mode="none")
    user = invoker_with_perm()
    results = run_in_threads(
        8,
        lambda index: tool_invoke(
            tool_name="probe.touch", call_id="same", input={"title": "each"}, user=user
        ),
    )
    assert Counter(outcome_kind(result) for result in results) == {"executed": 8}
    assert Task.objects.count() == ToolReceipt.objects.count() == 8


def test_concurrent_keyed_calls_with_different_keys_do_not_block_each_other(on_postgres):
    load_seed_registry()
    user = invoker_with_perm()
    results = run_in_threads(
        8,
        lambda index: tool_invoke(
            tool_name="leads.create", call_id=f"c{index}", input={"phone": f"+1555020{index}"}, user=user
        ),
    )
    assert Counter(outcome_kind(result) for result in results) == {"executed": 8}
    assert Lead.objects.count() == 8


@pytest.mark.parametrize("budget_for", ["tenant", "every tenant"])
def test_concurrent_calls_never_overrun_a_budget(on_postgres, settings, budget_for):
    """Limit = 3 x cost, 10 callers at once: the budget rows are locked at claim time, so exactly three
    run and the usage adds up to the limit, not a cent more."""
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    probe_tool(mode="none", cost=Decimal("0.25"))
    tenant = TenantFactory()
    BudgetPolicyFactory(
        budget_id="three-calls",
        tenant=tenant if budget_for == "tenant" else None,
        limit=Decimal("0.75"),
        period="day",
    )
    users = [invoker_with_perm() for _ in range(10)]
    for user in users:
        MembershipFactory(tenant=tenant, user=user)

    def call(index):
        # `hold` keeps the winners running while the others arrive: a check-only budget overshoots here.
        return tool_invoke(
            tool_name="probe.touch", call_id=f"call-{index}", input={"hold": 0.2}, user=users[index]
        )

    results = run_in_threads(10, call)
    kinds = Counter(outcome_kind(result) for result in results)
    assert kinds == {"executed": 3, "429 budget_exhausted": 7}, kinds
    assert Task.objects.count() == ToolReceipt.objects.count() == 3
    assert UsageEvent.objects.count() == 3
    assert UsageEvent.objects.aggregate(total=Sum("cost"))["total"] == Decimal("0.75")


@pytest.mark.parametrize("same", ["call_id", "key value"])
def test_concurrent_identical_calls_against_a_budget_of_one_call_are_one_effect_and_replays(
    on_postgres, settings, same
):
    """The budget holds exactly one call and eight identical calls arrive at once. The winner's charge
    exhausts the budget while the others are still between looking at their slot and checking the
    budget: each is answered from the winner's receipt (replay, or 409 while it runs), never 429."""
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    if same == "call_id":
        probe_tool(mode="safe-retry", cost=Decimal("1"))
    else:
        probe_tool(mode="keyed", key_field="key", cost=Decimal("1"))
    tenant = TenantFactory()
    BudgetPolicyFactory(budget_id="one-call", tenant=tenant, limit=Decimal("1"), period="day")
    users = [invoker_with_perm() for _ in range(4)]
    for user in users:
        MembershipFactory(tenant=tenant, user=user)

    def call(index):
        # Same call_id of one caller, or one key value from four callers under their own call ids.
        user, call_id = (users[0], "one") if same == "call_id" else (users[index % 4], f"c{index}")
        return tool_invoke(
            tool_name="probe.touch", call_id=call_id, input={"key": "k", "hold": 0.2}, user=user
        )

    results = run_in_threads(8, call)
    kinds = Counter(outcome_kind(result) for result in results)
    assert kinds["executed"] == 1, kinds
    assert set(kinds) <= {"executed", "replayed", "409 call_in_progress"}, kinds
    assert Task.objects.count() == ToolReceipt.objects.count() == UsageEvent.objects.count() == 1
    # Every caller's retry now replays the one result, though the budget is spent.
    receipt = ToolReceipt.objects.get()
    retries = [call(index) for index in range(8)]
    assert all(r.replayed and r.receipt == receipt for r in retries)
    assert Task.objects.count() == UsageEvent.objects.count() == 1
