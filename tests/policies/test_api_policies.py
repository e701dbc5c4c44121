"""Strategy locks, KPIs (definitions, corridors, tool bindings), budgets and usage through the API."""

from decimal import Decimal

import pytest

from policies.models import BudgetPolicy, KpiCorridor, KpiDefinition, KpiToolBinding, StrategyLock
from tests.policies.factories import (
    BudgetPolicyFactory,
    FirearmFactory,
    KpiCorridorFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
    StrategyLockFactory,
    UsageEventFactory,
)
from tests.registries.factories import ConnectorFactory
from tests.workbench.factories import (
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    token_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return SuperuserFactory(username="boss")


@pytest.fixture
def client(admin):
    return token_client(admin)


def _fields(response):
    return [error["field"] for error in response.json()["errors"]]


def test_lock_policy_crud_with_connector_and_firearm_ids(client):
    ConnectorFactory(connector_id="github")
    ConnectorFactory(connector_id="slack")
    FirearmFactory(firearm_id="firearm.deploy")
    body = {
        "name": "release-freeze", "description": "No deploys", "connectors": ["github"],
        "firearms": ["firearm.deploy"], "actions": ["leads.create"],
        "engaged": True, "reason": "state is not set through CRUD",
    }
    created = client.post("/api/v1/strategy-locks/", body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["engaged"], created.json()["reason"]) == (False, "")
    url = "/api/v1/strategy-locks/release-freeze/"
    changed = client.patch(url, {"connectors": ["github", "slack"]}, format="json").json()
    assert sorted(changed["connectors"]) == ["github", "slack"]
    lock = StrategyLock.objects.get(name="release-freeze")
    assert sorted(c.connector_id for c in lock.connectors.all()) == ["github", "slack"]
    assert client.delete(url).status_code == 204
    assert not StrategyLock.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "Bad Name"}, ["name"]),
        ({"name": "freeze", "connectors": ["nope"]}, ["connectors"]),
        ({"name": "freeze", "actions": ["not an action"]}, ["actions"]),
    ],
)
def test_invalid_lock_policies_name_the_field(client, body, fields):
    response = client.post("/api/v1/strategy-locks/", body, format="json")
    assert (response.status_code, _fields(response)) == (400, fields)
    assert not StrategyLock.objects.exists()


def test_engage_and_release_record_who_and_why(client, admin):
    StrategyLockFactory(name="freeze")
    engaged = client.post("/api/v1/strategy-locks/freeze/engage/", {"reason": "Incident 42"}, format="json")
    assert engaged.status_code == 200, engaged.content
    assert (engaged.json()["engaged"], engaged.json()["engaged_by"], engaged.json()["reason"]) == (
        True, "boss", "Incident 42",
    )
    again = client.post("/api/v1/strategy-locks/freeze/engage/", {"reason": "Again"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "no_change")
    released = client.post("/api/v1/strategy-locks/freeze/release/", {"reason": "Resolved"}, format="json")
    assert released.json()["engaged"] is False
    history = StrategyLock.objects.get(name="freeze").history.order_by("history_date")
    assert [h.history_change_reason for h in history][-2:] == ["engaged: Incident 42", "released: Resolved"]
    assert {h.history_user for h in history[1:]} == {admin}


def test_engage_needs_a_reason_and_the_change_permission(client):
    StrategyLockFactory(name="freeze")
    response = client.post("/api/v1/strategy-locks/freeze/engage/", {}, format="json")
    assert (response.status_code, _fields(response)) == (400, ["reason"])
    viewer = token_client(UserFactory(perms=["policies.view_strategylock"]))
    forbidden = viewer.post("/api/v1/strategy-locks/freeze/engage/", {"reason": "x"}, format="json")
    assert forbidden.status_code == 403
    assert StrategyLock.objects.get(name="freeze").engaged is False


def test_lock_filters(client):
    lock = StrategyLockFactory(name="freeze", engaged=True, reason="now")
    lock.connectors.add(ConnectorFactory(connector_id="github"))
    StrategyLockFactory(name="idle")
    engaged = client.get("/api/v1/strategy-locks/?engaged=true").json()["results"]
    assert [r["name"] for r in engaged] == ["freeze"]
    assert client.get("/api/v1/strategy-locks/?connector=github").json()["count"] == 1


def test_kpi_crud_by_kpi_id(client):
    body = {"kpi_id": "kpi.change_failure_rate", "name": "Change failure rate", "unit": "%",
            "direction": "lower_is_better"}
    assert client.post("/api/v1/kpis/", body, format="json").status_code == 201
    url = "/api/v1/kpis/kpi.change_failure_rate/"
    assert client.patch(url, {"name": "CFR"}, format="json").json()["name"] == "CFR"
    assert client.get("/api/v1/kpis/?direction=lower_is_better").json()["count"] == 1
    assert client.delete(url).status_code == 204
    assert not KpiDefinition.objects.exists()


def test_kpi_with_a_corridor_cannot_be_deleted(client):
    KpiCorridorFactory(kpi=KpiDefinitionFactory(kpi_id="kpi.latency"))
    response = client.delete("/api/v1/kpis/kpi.latency/")
    assert (response.status_code, response.json()["code"]) == (409, "protected")


def test_corridor_crud_by_kpi_id(client):
    KpiDefinitionFactory(kpi_id="kpi.latency")
    body = {"kpi": "kpi.latency", "lower": "0", "upper": "200", "critical_upper": "500"}
    assert client.post("/api/v1/kpi-corridors/", body, format="json").status_code == 201
    url = "/api/v1/kpi-corridors/kpi.latency/"
    assert Decimal(client.get(url).json()["upper"]) == 200
    assert Decimal(client.patch(url, {"upper": "250"}, format="json").json()["upper"]) == 250
    bad = client.patch(url, {"upper": "900"}, format="json")
    assert (bad.status_code, _fields(bad)) == (400, ["critical_upper"])
    assert KpiCorridor.objects.get().upper == 250
    assert client.delete(url).status_code == 204


def test_one_corridor_per_kpi(client):
    KpiCorridorFactory(kpi=KpiDefinitionFactory(kpi_id="kpi.latency"))
    response = client.post("/api/v1/kpi-corridors/", {"kpi": "kpi.latency", "upper": "1"}, format="json")
    assert (response.status_code, _fields(response)) == (400, ["kpi"])


def test_kpi_tool_bindings(client):
    KpiDefinitionFactory(kpi_id="kpi.latency")
    body = {"action_name": "github:admin_write", "kpi": "kpi.latency", "effect": "increases"}
    created = client.post("/api/v1/kpi-tool-bindings/", body, format="json")
    assert created.status_code == 201, created.content
    duplicate = client.post("/api/v1/kpi-tool-bindings/", body, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"][0]["message"] == "This action is already bound to this KPI."
    KpiToolBindingFactory(action_name="leads.create")
    assert client.get("/api/v1/kpi-tool-bindings/?connector=github").json()["count"] == 1
    assert client.get("/api/v1/kpi-tool-bindings/?kpi=kpi.latency").json()["count"] == 1
    url = f"/api/v1/kpi-tool-bindings/{created.json()['id']}/"
    assert client.patch(url, {"effect": "observes"}, format="json").json()["effect"] == "observes"
    assert client.delete(url).status_code == 204
    assert KpiToolBinding.objects.count() == 1


def test_budget_crud_with_tenant_and_connector_ids(client):
    TenantFactory(slug="acme")
    ConnectorFactory(connector_id="github")
    body = {"budget_id": "acme-github", "tenant": "acme", "connector": "github", "period": "month",
            "limit": "250.00"}
    created = client.post("/api/v1/budgets/", body, format="json")
    assert created.status_code == 201, created.content
    url = "/api/v1/budgets/acme-github/"
    assert client.patch(url, {"connector": None}, format="json").json()["connector"] is None
    assert client.get("/api/v1/budgets/?tenant=acme").json()["count"] == 1
    negative = client.patch(url, {"limit": "-1"}, format="json")
    assert (negative.status_code, _fields(negative)) == (400, ["limit"])
    assert client.delete(url).status_code == 204
    assert not BudgetPolicy.objects.exists()


def test_usage_events_are_read_only_and_filterable(client):
    BudgetPolicyFactory()
    acme = TenantFactory(slug="acme")
    event = UsageEventFactory(tenant=acme, action_name="github:admin_write", connector=ConnectorFactory())
    UsageEventFactory(action_name="leads.create")
    assert client.get("/api/v1/usage-events/?tenant=acme").json()["results"][0]["uid"] == str(event.uid)
    assert client.get(f"/api/v1/usage-events/{event.uid}/").json()["action_name"] == "github:admin_write"
    assert client.get("/api/v1/usage-events/?occurred_after=2000-01-01T00:00:00Z").json()["count"] == 2
    assert client.get("/api/v1/usage-events/?occurred_before=2000-01-01T00:00:00Z").json()["count"] == 0
    assert client.post("/api/v1/usage-events/", {}, format="json").status_code == 405


def test_usage_events_show_your_own_calls_and_your_tenants_calls_only():
    perm = ["policies.view_usageevent"]
    acme = TenantFactory(slug="acme")
    member, outsider = UserFactory(perms=perm), UserFactory(perms=perm)
    MembershipFactory(tenant=acme, user=member)
    MembershipFactory(tenant=TenantFactory(), user=outsider)
    for_acme = UsageEventFactory(tenant=acme, user=UserFactory(), call_id="acme")
    UsageEventFactory(user=outsider, call_id="outsider")
    UsageEventFactory(user=UserFactory(), call_id="someone")

    def listed(user):
        return sorted(e["call_id"] for e in token_client(user).get("/api/v1/usage-events/").json()["results"])

    assert listed(member) == ["acme"]
    assert listed(outsider) == ["outsider"]
    assert listed(SuperuserFactory()) == ["acme", "outsider", "someone"]
    assert token_client(member).get(f"/api/v1/usage-events/{for_acme.uid}/").status_code == 200
    assert token_client(outsider).get(f"/api/v1/usage-events/{for_acme.uid}/").status_code == 404
