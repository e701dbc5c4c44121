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
from tests.registries.factories import ConnectorFactory, ScopeFactory
from tests.workbench.factories import (
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
    token_client,
)
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal
from workbench.kit.rows import row_save

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


def test_locks_are_engaged_and_edited_by_platform_staff_only():
    StrategyLockFactory(name="freeze")
    perms = ["policies.view_strategylock", "policies.change_strategylock", "policies.add_strategylock"]
    # The change permission alone, even as a tenant's owner, is not enough: locks are platform-wide.
    owner = MembershipFactory(user=UserFactory(perms=perms), role="owner").user
    outsider = token_client(owner)
    for response in (
        outsider.post("/api/v1/strategy-locks/freeze/engage/", {"reason": "x"}, format="json"),
        outsider.patch("/api/v1/strategy-locks/freeze/", {"description": "mine"}, format="json"),
        outsider.post("/api/v1/strategy-locks/", {"name": "other"}, format="json"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "platform_scope")
    lock = StrategyLock.objects.get()
    assert (lock.engaged, lock.description) == (False, "")
    staff = token_client(platform_staff(perms))
    engaged = staff.post("/api/v1/strategy-locks/freeze/engage/", {"reason": "x"}, format="json")
    assert engaged.status_code == 200
    assert StrategyLock.objects.get().engaged is True


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


def test_kpi_tool_bindings_are_read_only_here(client):
    # Live bindings change only through publish and environment loads: every write method answers 405.
    latency = KpiDefinitionFactory(kpi_id="kpi.latency")
    binding = KpiToolBindingFactory(action_name="github:admin_write", kpi=latency, effect="increases")
    KpiToolBindingFactory(action_name="leads.create")
    assert client.get("/api/v1/kpi-tool-bindings/?connector=github").json()["count"] == 1
    assert client.get("/api/v1/kpi-tool-bindings/?kpi=kpi.latency").json()["count"] == 1
    url = f"/api/v1/kpi-tool-bindings/{binding.pk}/"
    assert client.get(url).json()["effect"] == "increases"
    body = {"action_name": "github:merge", "kpi": "kpi.latency", "effect": "observes"}
    for response in (
        client.post("/api/v1/kpi-tool-bindings/", body, format="json"),
        client.put(url, body, format="json"),
        client.patch(url, {"effect": "observes"}, format="json"),
        client.delete(url),
    ):
        assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert KpiToolBinding.objects.count() == 2
    assert KpiToolBinding.objects.get(pk=binding.pk).effect == "increases"


def test_a_duplicate_kpi_tool_binding_is_refused_on_the_publish_write_path():
    ScopeFactory(connector=ConnectorFactory(connector_id="github"), name="admin_write")
    latency = KpiToolBindingFactory(action_name="github:admin_write").kpi
    with pytest.raises(Refusal) as refused:
        row_save(instance=KpiToolBinding(action_name="github:admin_write", kpi=latency), user=SYSTEM)
    assert refused.value.status == 400
    assert refused.value.errors[0]["message"] == "This action is already bound to this KPI."
    assert KpiToolBinding.objects.count() == 1


def test_budget_crud_with_tenant_and_connector_ids(client):
    acme = TenantFactory(slug="acme")
    ConnectorFactory(connector_id="github")
    body = {"budget_id": "acme-github", "tenant": "acme", "connector": "github", "period": "month",
            "limit": "250.00"}
    created = client.post("/api/v1/budgets/", body, format="json")
    assert created.status_code == 201, created.content
    url = "/api/v1/budgets/acme-github/"
    assert client.patch(url, {"connector": None}, format="json").json()["connector"] is None
    # A tenant's budgets are listed to its members (and auditors), not to a superuser as such.
    assert client.get("/api/v1/budgets/?tenant=acme").json()["count"] == 0
    member = MembershipFactory(tenant=acme, user=UserFactory(perms=["policies.view_budgetpolicy"])).user
    assert token_client(member).get("/api/v1/budgets/?tenant=acme").json()["count"] == 1
    negative = client.patch(url, {"limit": "-1"}, format="json")
    assert (negative.status_code, _fields(negative)) == (400, ["limit"])
    assert client.delete(url).status_code == 204
    assert not BudgetPolicy.objects.exists()


def test_a_tenants_owner_writes_its_budgets_only():
    perms = [f"policies.{action}_budgetpolicy" for action in ("view", "add", "change", "delete")]
    acme, other = TenantFactory(slug="acme"), TenantFactory(slug="other")
    owner = MembershipFactory(tenant=acme, user=UserFactory(perms=perms), role="owner").user
    client = token_client(owner)
    mine = {"budget_id": "acme-all", "tenant": "acme", "period": "month", "limit": "10"}
    assert client.post("/api/v1/budgets/", mine, format="json").status_code == 201
    assert client.patch("/api/v1/budgets/acme-all/", {"limit": "20"}, format="json").status_code == 200
    theirs = {**mine, "budget_id": "other-all", "tenant": "other"}
    theirs = client.post("/api/v1/budgets/", theirs, format="json")
    assert (theirs.status_code, theirs.json()["code"]) == (403, "tenant_scope")
    everyone = client.post("/api/v1/budgets/", {**mine, "budget_id": "all", "tenant": None}, format="json")
    assert (everyone.status_code, everyone.json()["code"]) == (403, "platform_scope")
    BudgetPolicyFactory(budget_id="other-b", tenant=other)
    assert client.get("/api/v1/budgets/").json()["count"] == 1  # their tenant's only
    assert client.delete("/api/v1/budgets/other-b/").status_code == 404
    assert sorted(BudgetPolicy.objects.values_list("budget_id", flat=True)) == ["acme-all", "other-b"]
    assert BudgetPolicy.objects.get(budget_id="acme-all").limit == Decimal("20")


def test_usage_events_are_read_only_and_filterable():
    # Usage events are rows of their tenants: an auditor reads every tenant's.
    client = token_client(platform_staff(["policies.view_usageevent"]))
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
    # Superuser status alone reveals no tenant's calls; the audit permission reveals all.
    assert listed(SuperuserFactory()) == []
    assert listed(platform_staff(perm)) == ["acme", "outsider", "someone"]
    assert token_client(member).get(f"/api/v1/usage-events/{for_acme.uid}/").status_code == 200
    assert token_client(outsider).get(f"/api/v1/usage-events/{for_acme.uid}/").status_code == 404
