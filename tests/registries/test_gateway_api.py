"""POST /api/v1/tools/<name>/invoke/: the gateway over HTTP, every refusal as application/problem+json."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from policies.services import strategy_lock_engage
from registries.models import Lead, ToolDefinition
from tests.policies.factories import BudgetPolicyFactory, FirearmBindingFactory, StrategyLockFactory
from tests.registries.factories import LeadFactory
from tests.registries.gateway_kit import (
    PROBE_PACKAGES,
    invoker_with_perm,
    load_seed_registry,
    lock_keeper,
    probe_tool,
)
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory, token_client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def seeded():
    load_seed_registry()


@pytest.fixture
def caller():
    return invoker_with_perm()


@pytest.fixture
def api(caller):
    return token_client(caller)


def invoke(api, name="leads.create", input=None, call_id="c-1", **headers):
    body = {"call_id": call_id, "input": {"phone": "+15550300", "name": "Ann"} if input is None else input}
    return api.post(f"/api/v1/tools/{name}/invoke/", body, format="json", **headers)


def test_invoke_answers_result_receipt_and_replayed(seeded, api, caller):
    response = invoke(api)
    assert response.status_code == 200, response.content
    body = response.json()
    lead = Lead.objects.get()
    assert body["replayed"] is False and body["result"]["lead_id"] == lead.pk
    receipt = body["receipt"]
    assert (receipt["tool"], receipt["call_id"], receipt["status"], receipt["caller"]) == (
        "leads.create",
        "c-1",
        "succeeded",
        caller.username,
    )
    assert receipt["receipt_fields"] == {"result.lead_id": lead.pk, "result.phone": "+15550300"}
    again = invoke(api, call_id="c-2")
    assert again.json()["replayed"] is True and again["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"]["uid"] == receipt["uid"]


def test_idempotency_key_header_replays_safe_retry_calls(seeded, api):
    LeadFactory(phone="+15550301")
    first = invoke(api, "leads.get", {"phone": "+15550301"}, call_id="a", HTTP_IDEMPOTENCY_KEY="k-1")
    again = invoke(api, "leads.get", {"phone": "+15550301"}, call_id="b", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    mismatch = invoke(api, "leads.get", {"phone": "+15550302"}, call_id="c", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "idempotency_mismatch")


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    return body


def test_refusals_are_problems_with_their_codes(seeded, api, caller, settings):
    settings.WORKBENCH_TOOL_HANDLER_PACKAGES = PROBE_PACKAGES
    problem(invoke(api, "nope.missing"), 404, "tool_not_found")
    ToolDefinition.objects.filter(name="os.list_tasks").update(enabled=False)
    problem(invoke(api, "os.list_tasks", {}), 409, "tool_disabled")
    body = problem(invoke(api, "calendar.create_event", {"title": "x"}), 501, "not_configured")
    assert body["handler"] == "registries.handlers.calendar.create_event"
    body = problem(invoke(api, "os.create_task", {"due_at": "soon"}), 400, "validation_error")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("input.title", "required"),
        ("input.due_at", "format"),
    }
    body = problem(invoke(api, "leads.create", {"name": "no phone"}), 400, "validation_error")
    assert body["errors"][0]["field"] == "input.phone"
    firearm = FirearmBindingFactory(action_name="identity.add_memory").firearm
    body = problem(invoke(api, "identity.add_memory", {"key": "k", "content": "c"}), 403, "firearm_required")
    assert body["firearm"] == firearm.firearm_id
    lock = StrategyLockFactory(actions=["personal.boundary_set"])
    strategy_lock_engage(lock=lock, user=lock_keeper(), reason="review")
    body = problem(invoke(api, "personal.boundary_set", {"key": "k", "value": "v"}), 423, "strategy_locked")
    assert body["lock"] == lock.name
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=caller)
    budget = BudgetPolicyFactory(budget_id="tight", tenant=tenant, limit=Decimal("0"))
    body = problem(
        invoke(api, "media.register_asset", {"file_ref": "f", "media_type": "image/png"}),
        429,
        "budget_exhausted",
    )
    assert body["budget"] == "tight"
    budget.__class__.objects.filter(pk=budget.pk).update(active=False)
    probe_tool("probe.slow_write", timeout_ms=100)
    body = problem(invoke(api, "probe.slow_write", {"seconds": 0.3}), 504, "timeout")
    assert "receipt" in body
    probe_tool("probe.crash")
    problem(invoke(api, "probe.crash", {}), 502, "tool_failed")


def test_request_body_is_validated(seeded, api):
    response = api.post("/api/v1/tools/leads.create/invoke/", {"input": {}}, format="json")
    body = problem(response, 400, "validation_error")
    assert body["errors"][0]["field"] == "call_id"
    response = api.post(
        "/api/v1/tools/leads.create/invoke/", {"call_id": "x", "input": {}, "tenant": "nope"}, format="json"
    )
    assert problem(response, 400, "validation_error")["errors"][0]["field"] == "tenant"


def test_calling_for_a_tenant_picks_it_and_checks_membership(seeded, api, caller):
    mine, other = TenantFactory(), TenantFactory()
    MembershipFactory(tenant=mine, user=caller)
    MembershipFactory(tenant=TenantFactory(), user=caller)
    body = {"call_id": "t", "input": {"title": "x"}, "tenant": mine.slug}
    response = api.post("/api/v1/tools/os.create_task/invoke/", body, format="json")
    assert response.json()["receipt"]["tenant"] == mine.slug
    response = api.post("/api/v1/tools/os.create_task/invoke/", {**body, "tenant": other.slug}, format="json")
    problem(response, 403, "not_a_member")


def test_invoking_needs_the_invoke_permission(seeded):
    viewer = token_client(UserFactory(perms=["registries.view_tooldefinition"]))
    problem(invoke(viewer), 403, "permission_denied")
    response = invoke(APIClient())  # no credentials at all
    assert response.status_code == 401
    assert Lead.objects.count() == 0


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def _statements(api, name, body):
    """The SQL statements of one invoke over HTTP, transaction control left out."""
    with CaptureQueriesContext(connection) as queries:
        response = api.post(f"/api/v1/tools/{name}/invoke/", body, format="json")
    assert response.status_code == 200, response.content
    return response, [q["sql"] for q in queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.django_db(transaction=True)
def test_a_new_call_of_a_none_tool_sends_at_most_twelve_statements(seeded, api):
    """token (1), permissions (1), the tool with its bound firearm (1), the caller's tenant (1), the
    receipt holding the call's slot (1), engaged strategy locks (1); the claim: budgets locked (1), usage
    event (1), running receipt (1); the run: statement_timeout on PostgreSQL (1), the handler's insert
    (1), the receipt closed (1). No early budget read, no foreign-key checks the database makes anyway."""
    _statements(api, "os.create_task", {"call_id": "warm", "input": {"title": "t"}})
    response, statements = _statements(api, "os.create_task", {"call_id": "c-1", "input": {"title": "t"}})
    assert response.json()["replayed"] is False
    expected = 12 if connection.vendor == "postgresql" else 11
    assert len(statements) == expected, statements


@pytest.mark.django_db(transaction=True)
def test_a_keyed_replay_over_http_sends_five_statements(seeded, api):
    """token (1), permissions (1), the tool (1), the caller's tenant (1), the receipt holding the slot
    (1): a replay asks no policy question and writes nothing."""
    invoke(api)
    response, statements = _statements(
        api, "leads.create", {"call_id": "c-2", "input": {"phone": "+15550300", "name": "Ann"}}
    )
    assert response.json()["replayed"] is True
    assert len(statements) == 5, statements


def test_a_member_of_several_tenants_gets_tenant_required_naming_the_field(seeded, api, caller):
    MembershipFactory(tenant=TenantFactory(), user=caller)
    MembershipFactory(tenant=TenantFactory(), user=caller)
    body = problem(invoke(api, "os.create_task", {"title": "x"}), 400, "tenant_required")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("tenant", "required")]


def test_a_keyed_replay_for_another_caller_shows_the_result_not_their_receipt(seeded, api, caller):
    acme = TenantFactory()
    MembershipFactory(tenant=acme, user=caller)
    colleague = invoker_with_perm()
    MembershipFactory(tenant=acme, user=colleague)
    first = invoke(api, input={"phone": "+15550310", "name": "Ann"}).json()
    replay = invoke(token_client(colleague), input={"phone": "+15550310", "name": "Other"}, call_id="c-9")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    body = replay.json()
    assert body["replayed"] is True and body["result"] == first["result"]
    assert body["receipt"] == {
        "uid": first["receipt"]["uid"],
        "tool": "leads.create",
        "status": "succeeded",
    }
    own = invoke(api, input={"phone": "+15550310"}, call_id="c-10").json()
    assert own["replayed"] is True and own["receipt"]["input"] == {"phone": "+15550310", "name": "Ann"}


@pytest.mark.parametrize(
    ("name", "input", "field"),
    [
        (
            "media.register_asset",
            {"file_ref": "s3://m/huge.png", "media_type": "image/png", "size_bytes": 2**63},
            "input.size_bytes",
        ),
        ("os.create_task", {"title": "x", "due_at": "9999-12-31T23:59:59-23:59"}, "input.due_at"),
    ],
)
def test_input_a_handler_refuses_is_a_400_naming_the_input_field(seeded, api, name, input, field):
    body = problem(invoke(api, name, input), 400, "validation_error")
    assert [e["field"] for e in body["errors"]] == [field]
    assert "receipt" in body
