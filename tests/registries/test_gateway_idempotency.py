"""Idempotency exactly as seed 002, plus the Idempotency-Key header, 422 on reuse with other input,
409 while running, retries after failures, and receipt retention."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from policies.models import UsageEvent
from registries.models import (
    Boundary,
    Lead,
    MediaAsset,
    Memory,
    PatternScore,
    Task,
    ToolDefinition,
    ToolReceipt,
)
from registries.services.gateway import tool_invoke
from registries.services.gateway.execution import run_claimed_call
from registries.services.gateway.idempotency import claim_call, digest, slots_for
from registries.services.gateway.invoke import ToolContext
from tests.registries.factories import LeadFactory, ToolReceiptFactory
from tests.registries.gateway_kit import invoke, invoker_with_perm, load_seed_registry, probe_tool, refused
from tests.workbench.factories import MembershipFactory, TenantFactory
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db


def counts():
    return Task.objects.count(), ToolReceipt.objects.count(), UsageEvent.objects.count()


# -- none ---------------------------------------------------------------------------------------------


def test_none_always_executes_and_always_leaves_a_new_receipt(probes, caller):
    probe_tool(mode="none")
    first = invoke(caller, call_id="same")
    second = invoke(caller, call_id="same", idempotency_key="same-key")
    assert (first.replayed, second.replayed) == (False, False)
    assert first.receipt != second.receipt
    assert counts() == (2, 2, 2)


def test_none_reusing_a_call_id_with_another_input_is_422_with_the_same_input_it_runs_again(probes, caller):
    probe_tool(mode="none")
    invoke(caller, call_id="same", input={"title": "one"})
    again = invoke(caller, call_id="same", input={"title": "one"})
    assert again.replayed is False and again.receipt.call_slot is None  # the first call holds the slot
    problem = refused(caller, call_id="same", input={"title": "two"})
    assert (problem.status, problem.code) == (422, "idempotency_mismatch")
    assert problem.extra["receipt"] == str(ToolReceipt.objects.order_by("pk").first().uid)
    assert invoke(invoker_with_perm(), call_id="same", input={"title": "two"}).replayed is False
    assert counts() == (3, 3, 3)


def test_none_a_failed_call_frees_its_call_id(probes, caller):
    probe_tool("probe.refuse", mode="none")
    with pytest.raises(Refusal):
        invoke(caller, "probe.refuse", input={"title": "one"})
    assert ToolReceipt.objects.get().call_slot is None
    with pytest.raises(Refusal) as error:
        invoke(caller, "probe.refuse", input={"title": "two"})
    assert error.value.code == "already_exists"  # ran, not 422


# -- safe-retry ---------------------------------------------------------------------------------------


def test_safe_retry_replays_the_same_call_id_without_running_again(probes, caller):
    probe_tool(mode="safe-retry")
    first = invoke(caller)
    again = invoke(caller)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.receipt == first.receipt and again.result == first.result
    assert counts() == (1, 1, 1)


def test_safe_retry_replays_the_same_idempotency_key_under_another_call_id(probes, caller):
    probe_tool(mode="safe-retry")
    first = invoke(caller, call_id="a", idempotency_key="key-1")
    again = invoke(caller, call_id="b", idempotency_key="key-1")
    assert again.replayed and again.receipt == first.receipt
    assert invoke(caller, call_id="c", idempotency_key="key-2").replayed is False
    assert Task.objects.count() == 2


@pytest.mark.parametrize("reuse", ["call_id", "idempotency_key"])
def test_safe_retry_reuse_with_a_different_input_is_422(probes, caller, reuse):
    probe_tool(mode="safe-retry")
    invoke(caller, call_id="a", idempotency_key="k", input={"title": "one"})
    other = (
        {"call_id": "a", "idempotency_key": "other"}
        if reuse == "call_id"
        else {"call_id": "b", "idempotency_key": "k"}
    )
    problem = refused(caller, input={"title": "two"}, **other)
    assert (problem.status, problem.code) == (422, "idempotency_mismatch")
    assert Task.objects.count() == 1


def test_safe_retry_call_ids_belong_to_their_caller(probes, caller):
    probe_tool(mode="safe-retry")
    invoke(caller, call_id="1")
    other = invoke(invoker_with_perm(), call_id="1", input={"title": "someone else"})
    assert other.replayed is False and Task.objects.count() == 2


def test_a_read_tool_in_safe_retry_replays_its_first_answer(caller):
    load_seed_registry()
    missing = tool_invoke(tool_name="leads.get", call_id="look", input={"phone": "+15550111"}, user=caller)
    LeadFactory(phone="+15550111")
    again = tool_invoke(tool_name="leads.get", call_id="look", input={"phone": "+15550111"}, user=caller)
    assert again.replayed and again.result == missing.result == {"found": False, "lead": None}
    fresh = tool_invoke(tool_name="leads.get", call_id="look-2", input={"phone": "+15550111"}, user=caller)
    assert fresh.result["found"] is True


# -- keyed --------------------------------------------------------------------------------------------


def test_keyed_replays_the_prior_result_for_the_same_key_never_a_duplicate_row(caller):
    load_seed_registry()
    tenant = MembershipFactory(user=caller).tenant
    first = tool_invoke(
        tool_name="leads.create", call_id="a", input={"phone": "+15550120", "name": "Ann"}, user=caller
    )
    # Another call id, another caller of the tenant, other fields: same tool + key value -> the prior
    # result (seed 002).
    colleague = invoker_with_perm()
    MembershipFactory(tenant=tenant, user=colleague)
    again = tool_invoke(
        tool_name="leads.create",
        call_id="b",
        input={"phone": "+15550120", "name": "Annie"},
        user=colleague,
    )
    assert again.replayed and again.receipt == first.receipt and again.result["name"] == "Ann"
    assert Lead.objects.count() == 1 and ToolReceipt.objects.count() == 1
    other = tool_invoke(tool_name="leads.create", call_id="c", input={"phone": "+15550121"}, user=caller)
    assert other.replayed is False and Lead.objects.count() == 2


@pytest.mark.parametrize(
    ("name", "input", "model"),
    [
        ("media.register_asset", {"file_ref": "s3://m/1.png", "media_type": "image/png"}, MediaAsset),
        ("identity.add_memory", {"key": "k", "content": "c"}, Memory),
        ("identity.score_pattern", {"key": "k", "pattern": "p", "score": 0.5}, PatternScore),
        ("personal.boundary_set", {"key": "k", "value": "v"}, Boundary),
    ],
)
def test_every_seed_keyed_tool_creates_its_row_once(caller, name, input, model):
    load_seed_registry()
    results = [tool_invoke(tool_name=name, call_id=f"c{i}", input=input, user=caller) for i in range(3)]
    assert [r.replayed for r in results] == [False, True, True]
    assert model.objects.count() == 1


def test_keyed_call_id_reused_for_another_key_is_422(caller):
    load_seed_registry()
    tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550130"}, user=caller)
    with pytest.raises(Refusal) as error:
        tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550131"}, user=caller)
    assert (error.value.status, error.value.code) == (422, "idempotency_mismatch")


def test_keyed_without_the_key_field_is_a_validation_failure(caller):
    load_seed_registry()
    with pytest.raises(Refusal) as error:
        tool_invoke(tool_name="leads.create", call_id="a", input={"name": "No phone"}, user=caller)
    assert error.value.status == 400 and error.value.errors[0]["field"] == "input.phone"


def test_a_failed_call_frees_its_key_for_a_retry(caller):
    load_seed_registry()
    outside = LeadFactory(phone="+15550140")  # made outside the gateway: the handler refuses a duplicate
    with pytest.raises(Refusal) as error:
        tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550140"}, user=caller)
    assert (error.value.status, error.value.code) == (409, "already_exists")
    failed = ToolReceipt.objects.get()
    assert (failed.status, failed.call_slot, failed.key_slot) == ("failed", None, None)
    outside.delete()
    retry = tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550140"}, user=caller)
    assert retry.replayed is False and retry.receipt.status == "succeeded"
    assert Lead.objects.count() == 1


# -- tenants and callers -------------------------------------------------------------------------------


def member_of(tenant):
    user = invoker_with_perm()
    MembershipFactory(tenant=tenant, user=user)
    return user


def test_keyed_slots_belong_to_the_tenant(probes):
    probe_tool(mode="keyed", key_field="key")
    acme, globex = TenantFactory(), TenantFactory()
    ann, bob, gil = member_of(acme), member_of(acme), member_of(globex)
    first = invoke(ann, call_id="a", input={"key": "k", "title": "acme's"})
    # Same tenant, another caller: exactly one effect, the first result.
    same_tenant = invoke(bob, call_id="b", input={"key": "k", "title": "bob's"})
    assert same_tenant.replayed and same_tenant.receipt == first.receipt
    # Another tenant: its own call, never acme's receipt (caller, tenant, input).
    other_tenant = invoke(gil, call_id="a", input={"key": "k", "title": "globex's"})
    assert other_tenant.replayed is False and other_tenant.receipt.tenant == globex
    assert sorted(Task.objects.values_list("title", flat=True)) == ["acme's", "globex's"]
    # Without a tenant, a keyed slot is the caller's own (test_gateway_replay: a replay skips the policy).
    loner, other_loner = invoker_with_perm(), invoker_with_perm()
    alone = invoke(loner, call_id="x", input={"key": "k", "title": "nobody's"})
    assert alone.replayed is False and alone.receipt.tenant is None
    assert invoke(loner, call_id="x2", input={"key": "k"}).receipt == alone.receipt
    other = invoke(other_loner, call_id="y", input={"key": "k", "title": "another's"})
    assert other.replayed is False and other.receipt.tenant is None
    assert Task.objects.count() == 4


def test_a_tenantless_key_value_another_tenantless_caller_wrote_is_a_409_not_their_result():
    """Tenant-less domain rows are one set (unique without a tenant), but the keyed slot is the caller's:
    a second caller's lead for the same phone is a new call, refused by the row's constraint, never a
    replay of the first caller's result."""
    load_seed_registry()
    ann, bob = invoker_with_perm(), invoker_with_perm()
    first = tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550170"}, user=ann)
    with pytest.raises(Refusal) as error:
        tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550170"}, user=bob)
    assert (error.value.status, error.value.code) == (409, "already_exists")
    bobs = ToolReceipt.objects.get(user=bob)
    assert error.value.extra == {"receipt": str(bobs.uid)} and bobs.status == "failed"
    assert Lead.objects.count() == 1
    again = tool_invoke(tool_name="leads.create", call_id="a2", input={"phone": "+15550170"}, user=ann)
    assert again.replayed and again.receipt == first.receipt


def test_a_call_id_names_one_call_per_tenant(probes):
    probe_tool(mode="safe-retry")
    acme, globex = TenantFactory(), TenantFactory()
    caller = member_of(acme)
    MembershipFactory(tenant=globex, user=caller)
    for_acme = invoke(caller, call_id="1", tenant=acme)
    for_globex = invoke(caller, call_id="1", tenant=globex)
    assert for_globex.replayed is False and for_globex.receipt.tenant == globex
    assert invoke(caller, call_id="1", tenant=acme).receipt == for_acme.receipt


def test_a_keyed_replay_for_another_caller_is_marked_foreign(probes):
    probe_tool(mode="keyed", key_field="key")
    acme = TenantFactory()
    ann, bob = member_of(acme), member_of(acme)
    first = invoke(ann, call_id="a", input={"key": "k"})
    assert first.foreign is False
    assert invoke(ann, call_id="a2", input={"key": "k"}).foreign is False  # own call: the whole receipt
    replay = invoke(bob, call_id="b", input={"key": "k"})
    assert replay.replayed and replay.foreign and replay.result == first.result


def test_each_tenant_has_its_own_leads_and_never_gets_another_tenants(caller):
    """Keyed slots and domain rows are per tenant: the same phone in two tenants is two leads, each
    tenant reads only its own, and neither call replays or refuses the other's."""
    load_seed_registry()
    acme, globex = TenantFactory(), TenantFactory()
    ann, bob = member_of(acme), member_of(globex)
    first = tool_invoke(
        tool_name="leads.create", call_id="a", input={"phone": "+15550160", "name": "A"}, user=ann
    )
    second = tool_invoke(
        tool_name="leads.create", call_id="a", input={"phone": "+15550160", "name": "B"}, user=bob
    )
    assert not second.replayed and second.receipt.status == "succeeded"
    assert first.result["lead_id"] != second.result["lead_id"]
    assert sorted(Lead.objects.values_list("tenant__slug", "name")) == sorted(
        [(acme.slug, "A"), (globex.slug, "B")]
    )
    found = tool_invoke(tool_name="leads.get", call_id="g", input={"phone": "+15550160"}, user=bob)
    assert found.result["lead"]["name"] == "B"
    outsider = tool_invoke(tool_name="leads.get", call_id="g", input={"phone": "+15550160"}, user=caller)
    assert outsider.result == {"found": False, "lead": None}


# -- running, stale, taken over -----------------------------------------------------------------------


def claim(tool, user, *, call_id="call-1", input=None, key=None):
    input = {"title": "t"} if input is None else input
    slots = slots_for(tool, user=user, tenant=None, call_id=call_id, input=input, idempotency_key=key)
    return claim_call(
        tool=tool,
        slots=slots,
        call_id=call_id,
        input=input,
        input_hash=digest(input),
        user=user,
        tenant=None,
        idempotency_key=key,
    )


def test_a_second_call_while_the_first_is_running_is_409(probes, caller):
    tool = probe_tool(mode="safe-retry")
    running = claim(tool, caller)
    assert running.receipt.status == "running"
    problem = refused(caller)
    assert (problem.status, problem.code) == (409, "call_in_progress")
    assert problem.extra["receipt"] == str(running.receipt.uid)
    assert Task.objects.count() == 0


def test_a_call_running_past_its_deadline_is_abandoned_and_the_retry_runs(probes, caller):
    tool = probe_tool(mode="safe-retry")
    stale = claim(tool, caller).receipt
    ToolReceipt.objects.filter(pk=stale.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    retry = invoke(caller)
    assert retry.replayed is False and retry.receipt.status == "succeeded"
    stale.refresh_from_db()
    assert (stale.status, stale.call_slot) == ("abandoned", None)


def test_a_call_taken_over_cannot_commit_late(probes, caller):
    tool = probe_tool(mode="safe-retry")
    receipt = claim(tool, caller).receipt
    ToolReceipt.objects.filter(pk=receipt.pk).update(status="abandoned", call_slot=None, key_slot=None)
    from tests.registries.handlers.probe import touch

    context = ToolContext(tool=tool, call_id="call-1", user=caller, tenant=None, receipt=receipt)
    with pytest.raises(Refusal) as error:
        run_claimed_call(tool=tool, receipt=receipt, handler=touch, input={"title": "late"}, context=context)
    assert error.value.status == 504
    assert Task.objects.count() == 0


# -- the replay path's cost ---------------------------------------------------------------------------


def test_a_replay_costs_three_queries(probes, caller, django_assert_num_queries):
    probe_tool(mode="safe-retry")
    invoke(caller)
    # caller's tenant, tool, receipt holding the slot: a replay asks no policy question.
    with django_assert_num_queries(3):
        assert invoke(caller).replayed


def test_a_keyed_replay_costs_three_queries(caller, django_assert_num_queries):
    load_seed_registry()
    tool_invoke(tool_name="leads.create", call_id="a", input={"phone": "+15550150"}, user=caller)
    with django_assert_num_queries(3):
        assert tool_invoke(
            tool_name="leads.create", call_id="b", input={"phone": "+15550150"}, user=caller
        ).replayed


# -- retention ----------------------------------------------------------------------------------------


def test_purge_removes_old_finished_receipts_only(probes, caller, settings):
    settings.WORKBENCH_RECEIPT_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    old = ToolReceiptFactory(started_at=long_ago, finished_at=long_ago)
    recent = ToolReceiptFactory()
    running = ToolReceiptFactory(status="running", started_at=long_ago, finished_at=None)
    call_command("purge_receipts", "--dry-run")
    assert ToolReceipt.objects.count() == 3
    call_command("purge_receipts")
    assert set(ToolReceipt.objects.all()) == {recent, running}
    assert not ToolReceipt.objects.filter(pk=old.pk).exists()


def test_after_purge_the_call_runs_again(probes, caller):
    probe_tool(mode="safe-retry")
    first = invoke(caller)
    ToolReceipt.objects.filter(pk=first.receipt.pk).update(finished_at=timezone.now() - timedelta(days=400))
    call_command("purge_receipts", "--days", "90")
    assert invoke(caller).replayed is False
    assert Task.objects.count() == 2


def test_disabling_a_tool_stops_replays_too(probes, caller):
    probe_tool(mode="safe-retry")
    invoke(caller)
    ToolDefinition.objects.filter(name="probe.touch").update(enabled=False)
    assert refused(caller).code == "tool_disabled"
