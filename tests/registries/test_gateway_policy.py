"""tool_invoke's policy refusals: firearms and their grants, strategy locks, budgets and the charge made when
the call is claimed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policies.models import Firearm, UsageEvent
from policies.services import firearm_grant_approve, firearm_grant_revoke, strategy_lock_engage
from registries.models import Task, ToolReceipt
from tests.policies.factories import (
    BudgetPolicyFactory,
    FirearmBindingFactory,
    FirearmFactory,
    FirearmGrantFactory,
    StrategyLockFactory,
    UsageEventFactory,
)
from tests.registries.factories import ConnectorFactory
from tests.registries.gateway_kit import invoke, lock_keeper, probe_tool, refused
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
)

pytestmark = pytest.mark.django_db


# -- firearms -----------------------------------------------------------------------------------------


@pytest.fixture
def armed_tool(probes):
    probe_tool()
    return FirearmBindingFactory(action_name="probe.touch").firearm


def test_firearm_refusal_names_the_firearm(caller, armed_tool):
    problem = refused(caller)
    assert (problem.status, problem.code) == (403, "firearm_required")
    assert problem.extra["firearm"] == armed_tool.firearm_id
    assert armed_tool.firearm_id in str(problem.detail)


@pytest.mark.parametrize("through", ["user", "group", "tenant"])
def test_a_grant_reaches_the_caller_directly_or_through_group_or_tenant(caller, armed_tool, through):
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=caller)
    if through == "user":
        FirearmGrantFactory(firearm=armed_tool, tenant=tenant, user=caller)
    elif through == "group":
        group = GroupFactory()
        caller.groups.add(group)
        FirearmGrantFactory(firearm=armed_tool, tenant=tenant, principal_type="group", user=None, group=group)
    else:
        FirearmGrantFactory(firearm=armed_tool, principal_type="tenant", user=None, tenant=tenant)
    assert invoke(caller, tenant=tenant).receipt.status == "succeeded"


def test_expired_revoked_or_foreign_grants_do_not_count(caller, armed_tool):
    other_tenant, calling_for = TenantFactory(), TenantFactory()
    MembershipFactory(tenant=other_tenant, user=caller)
    MembershipFactory(tenant=calling_for, user=caller)
    mine = {"tenant": calling_for, "user": caller}
    FirearmGrantFactory(firearm=armed_tool, **mine, expires_at=timezone.now() - timedelta(minutes=1))
    revoked = FirearmGrantFactory(firearm=armed_tool, **mine)
    revoker = platform_staff(["policies.change_firearmgrant"], auditor=False)
    firearm_grant_revoke(grant=revoked, revoked_by=revoker, reason="left the team")
    FirearmGrantFactory(firearm=FirearmFactory(), **mine)
    FirearmGrantFactory(firearm=armed_tool, tenant=calling_for, user=UserFactory())
    # A grant counts only for calls made for its tenant: the caller's own grant within another tenant
    # and a grant to another of the caller's tenants do not count for calls made for this one.
    FirearmGrantFactory(firearm=armed_tool, tenant=other_tenant, user=caller)
    FirearmGrantFactory(firearm=armed_tool, principal_type="tenant", user=None, tenant=other_tenant)
    assert refused(caller, tenant=calling_for).code == "firearm_required"
    assert invoke(caller, tenant=other_tenant).receipt.status == "succeeded"


def test_a_call_made_for_no_tenant_holds_no_grant(caller, armed_tool):
    FirearmGrantFactory(firearm=armed_tool, user=caller)  # within a tenant the caller is not a member of
    assert not caller.memberships.exists()  # so their calls are made for no tenant
    assert refused(caller).code == "firearm_required"


def test_a_critical_firearms_grant_counts_once_a_second_person_approves_it(probes, caller):
    probe_tool()
    critical = FirearmFactory(severity=Firearm.Severity.CRITICAL)
    FirearmBindingFactory(action_name="probe.touch", firearm=critical)
    tenant = MembershipFactory(user=caller).tenant
    grant = FirearmGrantFactory(firearm=critical, tenant=tenant, user=caller, needs_approval=True)
    assert refused(caller, call_id="waiting").code == "firearm_required"
    firearm_grant_approve(grant=grant, approved_by=platform_staff(["policies.change_firearmgrant"]))
    assert invoke(caller, call_id="approved").receipt.status == "succeeded"


def test_calling_for_a_tenant_you_do_not_belong_to_is_refused(probes, caller):
    probe_tool()
    problem = refused(caller, tenant=TenantFactory())
    assert (problem.status, problem.code) == (403, "not_a_member")


# -- strategy locks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("covers", ["tool", "firearm", "connector"])
def test_an_engaged_lock_covering_the_tool_its_firearm_or_connector_refuses(probes, caller, covers):
    connector = ConnectorFactory()
    probe_tool(connector=connector)
    firearm = FirearmBindingFactory(action_name="probe.touch").firearm
    tenant = MembershipFactory(user=caller).tenant  # the caller's one tenant: their calls are made for it
    FirearmGrantFactory(firearm=firearm, tenant=tenant, user=caller)
    lock = StrategyLockFactory(actions=["probe.touch"] if covers == "tool" else [])
    if covers == "firearm":
        lock.firearms.add(firearm)
    if covers == "connector":
        lock.connectors.add(connector)
    assert invoke(caller, call_id="before").receipt.status == "succeeded"  # not engaged yet
    strategy_lock_engage(lock=lock, user=lock_keeper(), reason="quarter close")
    problem = refused(caller)
    assert (problem.status, problem.code, problem.extra["lock"]) == (
        423,
        "strategy_locked",
        lock.name,
    )


def test_a_lock_on_something_else_does_not_refuse(probes, caller):
    probe_tool()
    lock = StrategyLockFactory(actions=["leads.create", "github:admin_write"])
    strategy_lock_engage(lock=lock, user=lock_keeper(), reason="other work")
    assert invoke(caller).receipt.status == "succeeded"


# -- budgets ---------------------------------------------------------------------------------------------


def test_cost_is_counted_and_an_exhausted_budget_refuses(probes, caller):
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=caller)
    probe_tool(cost=Decimal("0.40"))
    BudgetPolicyFactory(budget_id="team", tenant=tenant, limit=Decimal("1.00"), period="day")
    invoke(caller, call_id="a")
    invoke(caller, call_id="b")
    assert UsageEvent.objects.filter(action_name="probe.touch", tenant=tenant).count() == 2
    problem = refused(caller, call_id="c")  # 0.80 used + 0.40 > 1.00
    assert (problem.status, problem.code, problem.extra["budget"]) == (
        429,
        "budget_exhausted",
        "team",
    )
    assert Task.objects.count() == 2


@pytest.mark.parametrize(
    ("budget", "exhausted"),
    [
        ({}, True),  # every tenant, every tool
        ({"active": False}, False),
        ({"unit": "calls"}, False),  # a budget in another unit than the tool's cost
        ({"tenant": "other"}, False),
        ({"tenant": "mine"}, True),
        ({"connector": "other"}, False),
        ({"connector": "mine"}, True),
    ],
)
def test_which_budgets_apply(probes, caller, budget, exhausted):
    tenant, connector = TenantFactory(), ConnectorFactory()
    MembershipFactory(tenant=tenant, user=caller)
    probe_tool(connector=connector)
    pick = {
        "mine": {"tenant": tenant, "connector": connector},
        "other": {"tenant": TenantFactory(), "connector": ConnectorFactory()},
    }
    fields = {
        key: pick[value][key] if key in ("tenant", "connector") else value for key, value in budget.items()
    }
    BudgetPolicyFactory(limit=Decimal("5"), **fields)
    UsageEventFactory(cost=Decimal("5"), tenant=tenant, connector=connector, unit="USD")
    if exhausted:
        assert refused(caller).code == "budget_exhausted"
    else:
        assert invoke(caller).receipt.status == "succeeded"


def test_usage_from_an_earlier_period_does_not_count(probes, caller):
    probe_tool()
    BudgetPolicyFactory(limit=Decimal("5"), period="day")
    UsageEventFactory(cost=Decimal("5"), occurred_at=timezone.now() - timedelta(days=2))
    assert invoke(caller).receipt.status == "succeeded"


# -- the budget is charged when the call is claimed -------------------------------------------------------


def test_the_cost_is_charged_when_the_call_is_claimed_so_the_next_caller_counts_it(probes, caller):
    """A call still running has already spent its cost: a second call cannot squeeze in beside it."""
    from registries.services.gateway.idempotency import claim_call, digest, slots_for

    tool = probe_tool(cost=Decimal("2"))
    BudgetPolicyFactory(budget_id="small", limit=Decimal("3"), period="day")
    slots = slots_for(tool, user=caller, tenant=None, call_id="first", input={}, idempotency_key=None)
    running = claim_call(
        tool=tool,
        slots=slots,
        call_id="first",
        input={},
        input_hash=digest({}),
        user=caller,
        tenant=None,
        idempotency_key=None,
    ).receipt
    assert running.status == "running"
    event = UsageEvent.objects.get()
    assert (event.call_id, event.cost, event.user) == ("first", Decimal("2"), caller)
    problem = refused(caller, call_id="second")  # 2 charged + 2 > 3, though the first has not finished
    assert (problem.status, problem.code, problem.extra["budget"]) == (
        429,
        "budget_exhausted",
        "small",
    )
    assert UsageEvent.objects.count() == 1 and ToolReceipt.objects.count() == 1


def test_the_budget_is_read_once_under_its_lock_and_refuses_there(probes, caller):
    """No early read without locks: the charge reads the budget under its row lock, refuses, and the
    transaction leaves nothing behind."""
    probe_tool(cost=Decimal("1"))
    BudgetPolicyFactory(budget_id="spent", limit=Decimal("1"))
    UsageEventFactory(cost=Decimal("1"), action_name="probe.touch")
    with CaptureQueriesContext(connection) as queries:
        problem = refused(caller)
    budget_reads = [q["sql"] for q in queries if 'FROM "policies_budgetpolicy"' in q["sql"]]
    assert len(budget_reads) == 1, budget_reads
    assert (problem.status, problem.code) == (429, "budget_exhausted")
    assert (Task.objects.count(), ToolReceipt.objects.count(), UsageEvent.objects.count()) == (0, 0, 1)
