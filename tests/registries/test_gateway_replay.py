"""A replay returns the stored result (seed 002: "receipt exists for same call_id -> return existing
result"; keyed: "prior receipt for same tool + key value") before any policy check, and only a receipt of
the caller's tenant (for call_id and Idempotency-Key: of the caller) ever replays."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from policies.models import UsageEvent
from policies.services import firearm_grant_revoke, strategy_lock_engage
from registries.models import Task, ToolDefinition, ToolReceipt
from registries.services.gateway import idempotency, tool_invoke
from tests.policies.factories import (
    BudgetPolicyFactory,
    FirearmBindingFactory,
    FirearmGrantFactory,
    StrategyLockFactory,
)
from tests.registries.gateway_kit import invoke, invoker_with_perm, lock_keeper, probe_tool, refused
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
    token_client,
)
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db

# How a later call names the first one: (tool mode, the first call, its replay, a new call).
SAME_CALL = {
    "call_id": (
        {"mode": "safe-retry"},
        {"call_id": "c1"},
        {"call_id": "c1"},
        {"call_id": "c2"},
    ),
    "Idempotency-Key": (
        {"mode": "safe-retry"},
        {"call_id": "c1", "idempotency_key": "k1"},
        {"call_id": "c2", "idempotency_key": "k1"},
        {"call_id": "c3", "idempotency_key": "k2"},
    ),
    "key value": (
        {"mode": "keyed", "key_field": "key"},
        {"call_id": "c1", "input": {"key": "k1", "title": "first"}},
        {"call_id": "c2", "input": {"key": "k1", "title": "other fields"}},
        {"call_id": "c3", "input": {"key": "k2", "title": "first"}},
    ),
}


def counts():
    return Task.objects.count(), ToolReceipt.objects.count(), UsageEvent.objects.count()


def member_of(tenant):
    user = invoker_with_perm()
    MembershipFactory(tenant=tenant, user=user)
    return user


def engage_lock(tool):
    strategy_lock_engage(lock=StrategyLockFactory(actions=[tool.name]), user=lock_keeper(), reason="freeze")


# Each policy: set up before the first call (which passes it), then made to refuse a new call.
def _lock(tool, caller, tenant):
    return lambda: engage_lock(tool)


def _budget(tool, caller, tenant):
    ToolDefinition.objects.filter(pk=tool.pk).update(cost=Decimal("1"))
    BudgetPolicyFactory(tenant=tenant, limit=Decimal("1"), period="day")  # the first call spends it
    return lambda: None


def _grant(tool, caller, tenant):
    firearm = FirearmBindingFactory(action_name=tool.name).firearm
    grant = FirearmGrantFactory(firearm=firearm, tenant=tenant, user=caller)
    revoker = platform_staff(["policies.change_firearmgrant"], auditor=False)
    return lambda: firearm_grant_revoke(grant=grant, revoked_by=revoker, reason="left the team")


POLICIES = {
    "engaged strategy lock": (_lock, 423, "strategy_locked"),
    "exhausted budget": (_budget, 429, "budget_exhausted"),
    "revoked grant": (_grant, 403, "firearm_required"),
}


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("same", SAME_CALL)
def test_a_replay_returns_the_stored_result_whatever_the_policy_says_now(probes, policy, same):
    tool_fields, first_call, replay_call, new_call = SAME_CALL[same]
    setup, status, code = POLICIES[policy]
    tool = probe_tool(**tool_fields)
    tenant = TenantFactory()
    caller = member_of(tenant)
    refuse = setup(tool, caller, tenant)
    first = invoke(caller, **first_call)
    assert first.receipt.status == "succeeded"
    refuse()
    before = counts()

    again = invoke(caller, **replay_call)
    assert again.replayed and again.receipt == first.receipt and again.result == first.result
    assert counts() == before  # no new effect: no task, no receipt, no usage

    problem = refused(caller, **new_call)  # a new call is checked as before
    assert (problem.status, problem.code) == (status, code)
    assert counts() == before


def test_a_replay_is_answered_over_http_while_the_tool_is_locked(probes):
    probe_tool(mode="safe-retry")
    api = token_client(invoker_with_perm())
    body = {"call_id": "c1", "input": {"title": "t"}}
    first = api.post("/api/v1/tools/probe.touch/invoke/", body, format="json").json()
    engage_lock(ToolDefinition.objects.get(name="probe.touch"))
    again = api.post("/api/v1/tools/probe.touch/invoke/", body, format="json")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["replayed"] is True and again.json()["result"] == first["result"]
    new = api.post("/api/v1/tools/probe.touch/invoke/", {**body, "call_id": "c2"}, format="json")
    assert (new.status_code, new.json()["code"]) == (423, "strategy_locked")


def test_a_none_tool_never_replays_so_the_same_call_id_is_checked_again(probes, caller):
    tool = probe_tool(mode="none")
    invoke(caller)
    engage_lock(tool)
    assert refused(caller).code == "strategy_locked"  # seed 002: `none` always executes
    assert counts() == (1, 1, 1)


def test_reuse_with_another_input_is_422_before_the_policy(probes, caller):
    tool = probe_tool(mode="safe-retry")
    invoke(caller, input={"title": "one"})
    engage_lock(tool)
    assert refused(caller, input={"title": "two"}).code == "idempotency_mismatch"


# -- what still comes before a replay ------------------------------------------------------------------


def _sign_out(tool, settings):
    return {"user": AnonymousUser()}


def _remove_tool(tool, settings):
    tool.delete()
    return {}


def _disable_tool(tool, settings):
    ToolDefinition.objects.filter(pk=tool.pk).update(enabled=False)
    return {}


def _remove_handler(tool, settings):
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = ["registries.handlers"]  # the probe handlers are gone
    return {}


BEFORE_A_REPLAY = {
    "authentication": (_sign_out, 401, "not_authenticated"),
    "the tool exists": (_remove_tool, 404, "tool_not_found"),
    "the tool is enabled": (_disable_tool, 409, "tool_disabled"),
    "a handler is configured": (_remove_handler, 501, "not_configured"),
}


@pytest.mark.parametrize("check", BEFORE_A_REPLAY)
def test_authentication_and_the_tool_come_before_a_replay(probes, caller, settings, check):
    breaks, status, code = BEFORE_A_REPLAY[check]
    tool = probe_tool(mode="safe-retry")
    invoke(caller)
    call = {"tool_name": "probe.touch", "call_id": "call-1", "input": {"title": "t"}, "user": caller}
    call.update(breaks(tool, settings))
    with pytest.raises(Refusal) as error:
        tool_invoke(**call)
    assert (error.value.status, error.value.code) == (status, code)


# -- only the tenant's receipts replay --------------------------------------------------------------------


@pytest.mark.parametrize("same", SAME_CALL)
def test_another_tenant_never_obtains_a_stored_result_by_guessing(probes, same):
    """A caller of globex sending acme's call_id, Idempotency-Key or key value makes a new call of its own
    (here refused by the lock), never a replay of acme's receipt; naming acme is not theirs to do."""
    tool_fields, first_call, replay_call, _ = SAME_CALL[same]
    tool = probe_tool(**tool_fields)
    acme, globex = TenantFactory(), TenantFactory()
    ann, gil = member_of(acme), member_of(globex)
    invoke(ann, **first_call)
    engage_lock(tool)
    assert refused(gil, **first_call).code == "strategy_locked"
    assert refused(gil, **replay_call).code == "strategy_locked"
    problem = refused(gil, **replay_call, tenant=acme)
    assert (problem.status, problem.code) == (403, "not_a_member")
    outsider = invoker_with_perm()  # no tenant at all: the tenant-less scope, not acme's
    assert refused(outsider, **replay_call).code == "strategy_locked"
    assert counts() == (1, 1, 1)


def test_a_member_of_two_tenants_replays_only_within_the_tenant_named(probes):
    tool = probe_tool(mode="safe-retry")
    acme, globex = TenantFactory(), TenantFactory()
    caller = member_of(acme)
    MembershipFactory(tenant=globex, user=caller)
    first = invoke(caller, tenant=acme)
    engage_lock(tool)
    assert invoke(caller, tenant=acme).receipt == first.receipt
    assert refused(caller, tenant=globex).code == "strategy_locked"


@pytest.mark.parametrize("same", ["call_id", "Idempotency-Key"])
def test_a_call_id_or_idempotency_key_replays_only_for_its_caller(probes, same):
    tool_fields, first_call, replay_call, _ = SAME_CALL[same]
    tool = probe_tool(**tool_fields)
    acme = TenantFactory()
    ann, bob = member_of(acme), member_of(acme)
    invoke(ann, **first_call)
    engage_lock(tool)
    assert refused(bob, **replay_call).code == "strategy_locked"


def test_a_keyed_replay_reaches_the_tenants_other_callers_with_the_result_only(probes):
    """The key value is the tenant's natural key (one row per key and tenant): a colleague's call replays
    the first result, marked foreign (the API shows them the result, not the caller's receipt)."""
    tool = probe_tool(mode="keyed", key_field="key")
    acme = TenantFactory()
    ann, bob = member_of(acme), member_of(acme)
    first = invoke(ann, call_id="a", input={"key": "k"})
    engage_lock(tool)
    replay = invoke(bob, call_id="b", input={"key": "k"})
    assert replay.replayed and replay.foreign and replay.result == first.result


def test_over_http_a_token_of_another_tenant_gets_no_stored_result(probes):
    tool = probe_tool(mode="keyed", key_field="key")
    acme, globex = TenantFactory(), TenantFactory()
    ann, gil = member_of(acme), member_of(globex)
    invoke(ann, call_id="a", input={"key": "secret-key", "title": "acme's"})
    engage_lock(tool)
    api = token_client(gil)
    body = {"call_id": "a", "input": {"key": "secret-key"}}
    guess = api.post("/api/v1/tools/probe.touch/invoke/", body, format="json")
    assert (guess.status_code, guess.json()["code"]) == (423, "strategy_locked")
    naming = api.post("/api/v1/tools/probe.touch/invoke/", {**body, "tenant": acme.slug}, format="json")
    assert (naming.status_code, naming.json()["code"]) == (403, "not_a_member")
    assert "acme's" not in guess.content.decode() + naming.content.decode()


# -- without a tenant, only the caller's own receipts replay ---------------------------------------------


# Each policy: set up before a tenant-less first call (which passes it), then made to refuse a new call.
def _bound_since(tool):
    return lambda: FirearmBindingFactory(action_name=tool.name)  # no tenant, so no grant can count


def _tenantless_lock(tool):
    return lambda: engage_lock(tool)


def _tenantless_budget(tool):
    ToolDefinition.objects.filter(pk=tool.pk).update(cost=Decimal("1"))
    BudgetPolicyFactory(tenant=None, limit=Decimal("1"), period="day")  # the first call spends it
    return lambda: None


TENANTLESS_POLICIES = {
    "firearm bound since": (_bound_since, 403, "firearm_required"),
    "engaged strategy lock": (_tenantless_lock, 423, "strategy_locked"),
    "exhausted budget": (_tenantless_budget, 429, "budget_exhausted"),
}


@pytest.mark.parametrize("policy", TENANTLESS_POLICIES)
@pytest.mark.parametrize("same", SAME_CALL)
def test_a_tenantless_caller_never_replays_another_tenantless_callers_result(probes, policy, same):
    """Callers of no tenant have no tenant to share a key value with: another one's call_id,
    Idempotency-Key or key value is a new call of their own, checked and refused, while the first caller
    still gets their own result back."""
    tool_fields, first_call, replay_call, _ = SAME_CALL[same]
    tool = probe_tool(**tool_fields)
    setup, status, code = TENANTLESS_POLICIES[policy]
    refuse = setup(tool)
    ann, stranger = invoker_with_perm(), invoker_with_perm()
    first = invoke(ann, **first_call)
    assert first.receipt.tenant is None and first.receipt.status == "succeeded"
    refuse()
    before = counts()

    problem = refused(stranger, **replay_call)
    assert (problem.status, problem.code) == (status, code)
    assert counts() == before
    own = invoke(ann, **replay_call)
    assert own.replayed and own.receipt == first.receipt and not own.foreign
    assert counts() == before


def test_a_tenantless_keyed_call_of_another_caller_runs_as_their_own(probes):
    """Without a policy in the way, the second caller's call runs (its own receipt and effect), and each
    caller's later calls replay their own receipt."""
    probe_tool(mode="keyed", key_field="key")
    ann, bob = invoker_with_perm(), invoker_with_perm()
    anns = invoke(ann, call_id="a", input={"key": "k", "title": "ann's"})
    bobs = invoke(bob, call_id="b", input={"key": "k", "title": "bob's"})
    assert bobs.replayed is False and bobs.receipt != anns.receipt and bobs.result["title"] == "bob's"
    assert invoke(ann, call_id="a2", input={"key": "k"}).receipt == anns.receipt
    assert invoke(bob, call_id="b2", input={"key": "k"}).receipt == bobs.receipt
    assert counts() == (2, 2, 2)


# -- a concurrent call that claimed the slot answers a refused one ----------------------------------------


def race_before_the_budget_check(monkeypatch, caller):
    """Run the identical call to the end after this call looked at its slots and before its admission and
    charge (where the budget is read); returns [its outcome]."""
    real = idempotency.admit
    elsewhere = []

    def race(*args, **kwargs):
        if not elsewhere:
            elsewhere.append(None)
            elsewhere[0] = invoke(caller)
        return real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "admit", race)
    return elsewhere


def test_a_call_refused_because_a_concurrent_identical_call_spent_the_budget_replays_it(probes, monkeypatch):
    """Between this call's look at its slots and its budget check, the same call ran elsewhere and spent
    the budget: the answer is that call's result, not a 429 (with real threads on PostgreSQL:
    test_gateway_concurrency.py)."""
    probe_tool(mode="safe-retry", cost=Decimal("1"))
    tenant = TenantFactory()
    caller = member_of(tenant)
    BudgetPolicyFactory(tenant=tenant, limit=Decimal("1"), period="day")
    elsewhere = race_before_the_budget_check(monkeypatch, caller)
    outcome = invoke(caller)
    assert outcome.replayed and outcome.receipt == elsewhere[0].receipt
    assert counts() == (1, 1, 1)
    # Another call of the same caller is new: the spent budget refuses it.
    assert refused(caller, call_id="call-2").code == "budget_exhausted"


def test_a_refused_none_call_stays_refused_though_its_call_id_is_taken(probes, monkeypatch):
    probe_tool(mode="none", cost=Decimal("1"))
    tenant = TenantFactory()
    caller = member_of(tenant)
    BudgetPolicyFactory(tenant=tenant, limit=Decimal("1"), period="day")
    race_before_the_budget_check(monkeypatch, caller)
    assert refused(caller).code == "budget_exhausted"  # `none` runs every time, so it is a new call
    assert counts() == (1, 1, 1)


def test_a_replay_over_http_still_needs_the_invoke_permission(probes):
    probe_tool(mode="safe-retry")
    invoke(invoker_with_perm())
    viewer = token_client(UserFactory(perms=["registries.view_tooldefinition"]))
    response = viewer.post(
        "/api/v1/tools/probe.touch/invoke/", {"call_id": "call-1", "input": {"title": "t"}}, format="json"
    )
    assert response.status_code == 403
