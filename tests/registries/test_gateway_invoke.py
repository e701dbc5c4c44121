"""tool_invoke: the order of checks, input validation, dispatch, receipts, usage events, output validation,
the caller's tenant. Policy refusals (firearms, strategy locks, budgets) are in test_gateway_policy.py."""

import logging
from decimal import Decimal

import pytest

from policies.models import UsageEvent
from policies.services import (
    firearm_grant_create,
    strategy_lock_engage,
    strategy_lock_release,
)
from registries.models import Lead, Task, ToolReceipt
from registries.services.gateway import handler_parts, resolve_handler, tool_invoke
from tests.policies.factories import (
    BudgetPolicyFactory,
    FirearmBindingFactory,
    FirearmFactory,
    StrategyLockFactory,
)
from tests.registries.gateway_kit import (
    PROBE_PACKAGES,
    invoke,
    load_seed_registry,
    lock_keeper,
    probe_tool,
    refused,
)
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


# -- order of checks --------------------------------------------------------------------------------


def test_checks_run_in_the_documented_order(settings, caller):
    """Every check fails at first; fixing them one by one reveals the next, in the contract's order."""
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = ["registries.handlers"]  # probe handlers not visible yet
    tool = probe_tool(enabled=False)
    firearm = FirearmFactory(firearm_id="firearm.probe")
    FirearmBindingFactory(action_name=tool.name, firearm=firearm)
    # The caller calls for their one tenant, whose owner grants the firearm within it.
    tenant = MembershipFactory(user=caller).tenant
    owner = UserFactory(perms=["policies.add_firearmgrant"])
    MembershipFactory(tenant=tenant, user=owner, role="owner")
    lock = StrategyLockFactory(actions=[tool.name])
    keeper = lock_keeper()
    strategy_lock_engage(lock=lock, user=keeper, reason="freeze")
    budget = BudgetPolicyFactory(limit=Decimal("0"))
    bad_input = {"title": "t", "when": "tomorrow"}

    assert refused(caller, "probe.unknown").code == "tool_not_found"
    steps = []
    for fix in [
        lambda: tool.__class__.objects.filter(pk=tool.pk).update(enabled=True),
        lambda: setattr(settings, "WORKBENCH_TOOL_HANDLER_PACKAGES", PROBE_PACKAGES),
        lambda: bad_input.update(when="2030-01-01T09:00:00Z"),
        lambda: firearm_grant_create(
            firearm=firearm, principal_type="user", tenant=tenant, user=caller, reason="test",
            granted_by=owner,
        ),
        lambda: strategy_lock_release(lock=lock, user=keeper, reason="thaw"),
        lambda: budget.__class__.objects.filter(pk=budget.pk).update(active=False),
    ]:
        problem = refused(caller, input=bad_input)
        steps.append((problem.status, problem.code))
        fix()
    assert steps == [
        (409, "tool_disabled"),
        (501, "not_configured"),
        (400, "validation_error"),
        (403, "firearm_required"),
        (423, "strategy_locked"),
        (429, "budget_exhausted"),
    ]
    assert invoke(caller, input=bad_input).receipt.status == "succeeded"


def test_nothing_runs_when_a_check_refuses(probes, caller):
    probe_tool()
    FirearmBindingFactory(action_name="probe.touch")
    refused(caller)
    assert (Task.objects.count(), ToolReceipt.objects.count(), UsageEvent.objects.count()) == (0, 0, 0)


# -- each refusal -------------------------------------------------------------------------------------


def test_not_configured_names_where_the_handler_is_expected(caller):
    load_seed_registry()
    problem = refused(caller, "messages.send_sms", input={"to": "+15550100", "body": "hi"})
    assert (problem.status, problem.code) == (501, "not_configured")
    assert problem.extra["handler"] == "registries.handlers.messages.send_sms"


def test_input_errors_come_one_per_field_with_formats_checked(probes, caller):
    probe_tool(
        input_schema={
            "type": "object",
            "required": ["title", "due"],
            "properties": {
                "title": {"type": "string"},
                "due": {"type": "string", "format": "date-time"},
                "count": {"type": "integer"},
                "email": {"type": "string", "format": "email"},
            },
        }
    )
    problem = refused(caller, input={"count": "two", "email": "nobody"})
    assert problem.status == 400
    assert {(e["field"], e["code"]) for e in problem.errors} == {
        ("input.title", "required"),
        ("input.due", "required"),
        ("input.count", "type"),
        ("input.email", "format"),
    }
    for bad in ["tomorrow", "2030-13-01T09:00:00Z", "2030-01-01 09:00"]:
        problem = refused(caller, input={"title": "t", "due": bad})
        assert [(e["field"], e["code"]) for e in problem.errors] == [("input.due", "format")], bad
    assert (
        invoke(caller, input={"title": "t", "due": "2030-01-01T09:00:00+02:00"}).receipt.status == "succeeded"
    )


@pytest.mark.parametrize(
    ("call_id", "input", "field"),
    [
        ("", {}, "call_id"),
        ("x" * 201, {}, "call_id"),
        ("ok", ["not", "an", "object"], "input"),
        ("ok", {"title": "nul\x00"}, "input.title"),
    ],
)
def test_call_id_and_input_shape_are_checked(probes, caller, call_id, input, field):
    probe_tool()
    problem = refused(caller, call_id=call_id, input=input)
    assert problem.status == 400 and problem.errors[0]["field"] == field


def test_keyed_tool_needs_its_key_field_even_if_the_schema_does_not_require_it(probes, caller):
    tool = probe_tool(mode="keyed", key_field="key")
    tool.input_schema["required"] = []
    tool.save()
    problem = refused(caller, input={"title": "no key"})
    assert (problem.status, problem.errors[0]["field"]) == (400, "input.key")


def test_anonymous_callers_are_refused(probes):
    from django.contrib.auth.models import AnonymousUser

    probe_tool()
    assert refused(AnonymousUser()).status == 401


# -- running the handler, receipts, usage -------------------------------------------------------------------


def test_an_executed_call_leaves_a_receipt_and_a_usage_event(caller):
    load_seed_registry()
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=caller)
    outcome = tool_invoke(
        tool_name="leads.create", call_id="lead-1", input={"phone": "+15550101", "name": "Ann"}, user=caller
    )
    receipt = ToolReceipt.objects.get()
    lead = Lead.objects.get()
    assert outcome.replayed is False and outcome.receipt == receipt
    assert (receipt.tool_name, receipt.call_id, receipt.user, receipt.tenant, receipt.status) == (
        "leads.create",
        "lead-1",
        caller,
        tenant,
        "succeeded",
    )
    assert receipt.input == {"phone": "+15550101", "name": "Ann"}
    assert receipt.result["lead_id"] == lead.pk and receipt.result["phone"] == "+15550101"
    assert receipt.receipt_fields == {"result.lead_id": lead.pk, "result.phone": "+15550101"}
    assert receipt.duration_ms is not None and receipt.finished_at >= receipt.started_at
    assert receipt.output_errors == [] and receipt.key_value == "+15550101"
    event = UsageEvent.objects.get()
    assert (event.action_name, event.call_id, event.user, event.tenant, event.cost) == (
        "leads.create",
        "lead-1",
        caller,
        tenant,
        Decimal("0"),
    )


def test_output_mismatch_is_logged_and_recorded_never_blocking(probes, caller, caplog):
    probe_tool(
        "probe.bad_output",
        output_schema={"type": "object", "properties": {"count": {"type": "integer"}}},
        receipt_fields=["result.count", "result.missing"],
    )
    with caplog.at_level(logging.WARNING, logger="registries.gateway"):
        outcome = invoke(caller, "probe.bad_output")
    assert outcome.receipt.status == "succeeded" and outcome.result == {"count": "three"}
    assert outcome.receipt.output_errors == [
        {"path": "result.count", "message": "'three' is not of type 'integer'"}
    ]
    assert outcome.receipt.receipt_fields == {"result.count": "three", "result.missing": None}
    assert "does not match its output_schema" in caplog.text
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "status", "code"), [("probe.refuse", 409, "already_exists"), ("probe.crash", 502, "tool_failed")]
)
def test_a_failing_handler_commits_nothing_and_its_receipt_says_failed(probes, caller, name, status, code):
    probe_tool(name)
    problem = refused(caller, name)
    assert (problem.status, problem.code) == (status, code)
    receipt = ToolReceipt.objects.get()
    assert (receipt.status, receipt.error["code"], str(receipt.uid)) == (
        "failed",
        code,
        problem.extra["receipt"],
    )
    assert Task.objects.count() == 0
    assert UsageEvent.objects.filter(call_id="call-1").count() == 1  # executed, so counted


def test_dispatch_maps_names_to_module_and_function(probes, caller):
    assert handler_parts("os.create_task") == ("os", "create_task")
    assert handler_parts("integrations.google_drive.search") == ("integrations", "google_drive_search")
    assert resolve_handler("leads.create").path == "registries.handlers.leads.create"
    assert resolve_handler("probe.deep.call").path == "tests.registries.handlers.probe.deep_call"
    probe_tool("probe.deep.call")
    assert invoke(caller, "probe.deep.call").result == {"reached": "deep_call"}


@pytest.mark.parametrize("name", ["leads.iso", "leads.create_row", "calendar.create_event", "nowhere.at_all"])
def test_helpers_and_missing_modules_are_not_handlers(name):
    handler = resolve_handler(name)
    assert (handler.configured, handler.status) == (False, "not_configured")


@pytest.mark.parametrize(
    ("name", "input", "key"),
    [
        ("leads.create", {"phone": "+15550102", "name": "Bo", "email": "bo@example.com"}, "lead_id"),
        ("leads.get", {"phone": "+15550102"}, "found"),
        (
            "media.register_asset",
            {"file_ref": "s3://m/a.png", "media_type": "image/png", "size_bytes": 10},
            "asset_id",
        ),
        ("identity.add_memory", {"key": "k1", "content": "likes tea", "tags": ["food"]}, "memory_id"),
        ("identity.score_pattern", {"key": "k1", "pattern": "late", "score": 0.25}, "score_id"),
        ("personal.boundary_set", {"key": "k1", "value": "no calls after 8pm"}, "boundary_id"),
        ("os.create_task", {"title": "Call Bo", "due_at": "2030-01-01T09:00:00Z"}, "task_id"),
        ("os.list_tasks", {"status": "open"}, "tasks"),
    ],
)
def test_every_real_seed_tool_runs_and_matches_its_output_schema(caller, name, input, key):
    load_seed_registry()
    outcome = tool_invoke(tool_name=name, call_id=f"seed-{name}", input=input, user=caller)
    assert outcome.receipt.status == "succeeded" and key in outcome.result
    assert outcome.receipt.output_errors == []


# -- the caller's tenant -----------------------------------------------------------------------------------


def test_a_member_of_several_tenants_must_name_the_tenant(probes, caller):
    """Otherwise only tenant-less budgets would apply: a tenant's budget could be dodged."""
    probe_tool(cost=Decimal("1"))
    acme, globex = TenantFactory(), TenantFactory()
    MembershipFactory(tenant=acme, user=caller)
    MembershipFactory(tenant=globex, user=caller)
    BudgetPolicyFactory(tenant=acme, limit=Decimal("0"))
    problem = refused(caller)
    assert (problem.status, problem.code) == (400, "tenant_required")
    assert [(e["field"], e["code"]) for e in problem.errors] == [("tenant", "required")]
    assert refused(caller, tenant=acme).code == "budget_exhausted"
    assert invoke(caller, tenant=globex).receipt.tenant == globex
    assert (Task.objects.count(), ToolReceipt.objects.count()) == (1, 1)


def test_a_caller_of_no_tenant_calls_tenant_less(probes, caller):
    probe_tool()
    assert invoke(caller).receipt.tenant is None


# -- handler-side refusals of the caller's input -------------------------------------------------------------


def test_handler_side_validation_errors_name_the_input_field(caller):
    load_seed_registry()
    problem = refused(
        caller,
        "media.register_asset",
        input={"file_ref": "s3://m/huge.png", "media_type": "image/png", "size_bytes": 2**63},
    )
    assert (problem.status, problem.code) == (400, "validation_error")
    assert [(e["field"], e["code"]) for e in problem.errors] == [("input.size_bytes", "max_value")]
    receipt = ToolReceipt.objects.get()
    assert (receipt.status, receipt.error["code"], problem.extra["receipt"]) == (
        "failed",
        "validation_error",
        str(receipt.uid),
    )


@pytest.mark.parametrize(
    ("due_at", "code"),
    [
        ("9999-12-31T23:59:59-23:59", "out_of_range"),  # year 10000 in UTC
        ("0001-01-01T00:00:00+23:59", "out_of_range"),  # year 0 in UTC
        ("9999-12-31t23:59:59z", None),  # the last representable second, lower-case as RFC 3339 allows
    ],
)
def test_date_times_no_datetime_can_hold_are_the_callers_400(caller, due_at, code):
    load_seed_registry()
    input = {"title": "Far away", "due_at": due_at}
    if code is None:
        outcome = invoke(caller, "os.create_task", input=input)
        assert outcome.result["due_at"] == "9999-12-31T23:59:59Z"
        return
    problem = refused(caller, "os.create_task", input=input)
    assert (problem.status, problem.code) == (400, "validation_error")
    assert [(e["field"], e["code"]) for e in problem.errors] == [("input.due_at", code)]
    assert Task.objects.count() == 0
