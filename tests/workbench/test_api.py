"""The live-registry API as a whole: authentication, permissions, 405 on read-only registries,
constant list query counts, bounded pages, and who is recorded on history rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from policies.models import Firearm
from tests.policies.factories import (
    BudgetPolicyFactory,
    FirearmBindingFactory,
    FirearmFactory,
    FirearmGrantFactory,
    KpiCorridorFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
    StrategyLockFactory,
    UsageEventFactory,
)
from tests.registries.factories import (
    ComponentSpecFactory,
    ConnectorFactory,
    ConnectorSpecFactory,
    EngineRouteFactory,
    RoutingConfigFactory,
    ScopeFactory,
)
from tests.workbench.factories import (
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
    token_client,
)

pytestmark = pytest.mark.django_db


def _connector_with_scopes():
    scope = ScopeFactory()
    ScopeFactory(connector=scope.connector)


def _lock_covering_things():
    lock = StrategyLockFactory()
    lock.connectors.add(ConnectorFactory())
    lock.firearms.add(FirearmFactory())


# Tenant rows (grants, budgets of a tenant, usage events) are read by their tenants' members and by
# auditors: listers belong to this tenant, and the rows are made in it.
LISTED_TENANT = "listed"


def _grant():
    FirearmGrantFactory(tenant=TenantFactory(slug=LISTED_TENANT))


def _budget():
    BudgetPolicyFactory(tenant=TenantFactory(slug=LISTED_TENANT), connector=ConnectorFactory())


def _usage_event():
    tenant = TenantFactory(slug=LISTED_TENANT)
    UsageEventFactory(tenant=tenant, user=UserFactory(), connector=ConnectorFactory())


def _lister(perm):
    user = UserFactory(perms=[perm])
    MembershipFactory(tenant=TenantFactory(slug=LISTED_TENANT), user=user)
    return user


# list endpoint -> (view permission, makes one row of it)
ENDPOINTS = {
    "connectors": ("registries.view_connector", _connector_with_scopes),
    "specs": ("registries.view_componentspec", ComponentSpecFactory),
    "scopes": ("registries.view_scope", ScopeFactory),
    "routing": ("registries.view_routingconfig", RoutingConfigFactory),
    "engine-routes": ("registries.view_engineroute", EngineRouteFactory),
    "firearms": ("policies.view_firearm", FirearmFactory),
    "firearm-grants": ("policies.view_firearmgrant", _grant),
    "firearm-bindings": ("policies.view_firearmbinding", FirearmBindingFactory),
    "strategy-locks": ("policies.view_strategylock", _lock_covering_things),
    "kpis": ("policies.view_kpidefinition", KpiDefinitionFactory),
    "kpi-corridors": ("policies.view_kpicorridor", KpiCorridorFactory),
    "kpi-tool-bindings": ("policies.view_kpitoolbinding", KpiToolBindingFactory),
    "budgets": ("policies.view_budgetpolicy", _budget),
    "usage-events": ("policies.view_usageevent", _usage_event),
}


def _is_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["status"] == status


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_token_is_401_problem(endpoint):
    response = APIClient().get(f"/api/v1/{endpoint}/")
    _is_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401_problem():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    _is_problem(client.get("/api/v1/firearms/"), 401, "authentication_failed")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_without_view_permission_is_403_problem(endpoint):
    perm, _ = ENDPOINTS[endpoint]
    other_app_perm = "policies.view_firearm" if perm.startswith("registries") else "registries.view_connector"
    client = token_client(UserFactory(perms=[other_app_perm]))
    _is_problem(client.get(f"/api/v1/{endpoint}/"), 403, "permission_denied")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_view_permission_lists_rows(endpoint):
    perm, make = ENDPOINTS[endpoint]
    make()
    response = token_client(_lister(perm)).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["count"] >= 1


@pytest.mark.parametrize("endpoint", ["firearm-grants", "budgets", "usage-events"])
def test_view_permission_lists_no_tenant_rows_of_other_tenants(endpoint):
    perm, make = ENDPOINTS[endpoint]
    make()
    outsider = UserFactory(perms=[perm])
    MembershipFactory(user=outsider)  # a member of another tenant
    assert token_client(outsider).get(f"/api/v1/{endpoint}/").json()["count"] == 0


def test_view_permission_does_not_allow_writes():
    client = token_client(UserFactory(perms=["policies.view_firearm"]))
    response = client.post("/api/v1/firearms/", {"firearm_id": "firearm.x", "name": "X"}, format="json")
    _is_problem(response, 403, "permission_denied")
    assert not Firearm.objects.exists()


def test_admin_session_authenticates_too():
    client = APIClient()
    client.force_login(UserFactory(perms=["policies.view_firearm"]))
    assert client.get("/api/v1/firearms/").status_code == 200


def _list_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_query_count_is_the_same_for_1_and_50_rows(endpoint):
    perm, make = ENDPOINTS[endpoint]
    client = token_client(_lister(perm))
    url = f"/api/v1/{endpoint}/"
    make()
    client.get(url)  # warm up
    one, count_one = _list_queries(client, url)
    for _ in range(49):
        make()
    fifty, count_fifty = _list_queries(client, url)
    assert count_fifty >= count_one + 49
    assert fifty == one


def test_connector_versions_query_count_is_constant():
    connector = ConnectorFactory(connector_id="github")
    client = token_client(UserFactory(perms=["registries.view_connector", "registries.view_componentspec"]))
    url = "/api/v1/connectors/github/versions/"
    one, _ = _list_queries(client, url)
    for minor in range(1, 50):
        ConnectorSpecFactory(spec_id=connector.connector_id, version=f"1.{minor}.0")
    fifty, count = _list_queries(client, url)
    assert (count, fifty) == (50, one)


def test_connector_detail_query_count_does_not_grow_with_scopes():
    connector = ConnectorFactory(connector_id="github")
    ScopeFactory(connector=connector)
    client = token_client(UserFactory(perms=["registries.view_connector"]))
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/connectors/github/")
    for _ in range(20):
        ScopeFactory(connector=connector)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/connectors/github/")
    assert len(response.json()["scopes"]) == 21
    assert len(many) == len(one)


def test_page_size_is_bounded():
    Firearm.objects.bulk_create(Firearm(firearm_id=f"firearm.f{n:03}", name=f"F {n}") for n in range(201))
    client = token_client(UserFactory(perms=["policies.view_firearm"]))
    default = client.get("/api/v1/firearms/").json()
    assert (default["count"], len(default["results"])) == (201, 50)
    asked_too_many = client.get("/api/v1/firearms/?page_size=1000").json()
    assert len(asked_too_many["results"]) == 200
    assert asked_too_many["next"]
    assert len(client.get("/api/v1/firearms/?page_size=7").json()["results"]) == 7


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/connectors/"),
        ("put", "/api/v1/connectors/github/"),
        ("patch", "/api/v1/connectors/github/"),
        ("delete", "/api/v1/connectors/github/"),
        ("post", "/api/v1/specs/"),
        ("put", "/api/v1/specs/{spec}/"),
        ("patch", "/api/v1/specs/{spec}/"),
        ("delete", "/api/v1/specs/{spec}/"),
        ("post", "/api/v1/scopes/"),
        ("patch", "/api/v1/scopes/{scope}/"),
        ("delete", "/api/v1/scopes/{scope}/"),
        ("post", "/api/v1/usage-events/"),
        ("delete", "/api/v1/usage-events/{event}/"),
        ("post", "/api/v1/connectors/github/versions/"),
        # Live bindings change only through publish and environment loads.
        ("post", "/api/v1/firearm-bindings/"),
        ("patch", "/api/v1/firearm-bindings/{binding}/"),
        ("delete", "/api/v1/firearm-bindings/{binding}/"),
        ("post", "/api/v1/kpi-tool-bindings/"),
        ("delete", "/api/v1/kpi-tool-bindings/{kpi_binding}/"),
    ],
)
@pytest.mark.parametrize(
    "user_factory", [SuperuserFactory, lambda: UserFactory(perms=["registries.view_connector"])]
)
def test_writes_to_published_registries_are_405(method, url, user_factory):
    scope = ScopeFactory(connector=ConnectorFactory(connector_id="github"))
    event = UsageEventFactory()
    binding = FirearmBindingFactory()
    kpi_binding = KpiToolBindingFactory()
    url = url.format(
        spec=scope.spec_id, scope=scope.pk, event=event.uid, binding=binding.action_name,
        kpi_binding=kpi_binding.pk,
    )
    response = getattr(token_client(user_factory()), method)(url, {"name": "changed"}, format="json")
    _is_problem(response, 405, "method_not_allowed")


def test_api_root_lists_the_registries():
    body = token_client(UserFactory()).get("/api/v1/").json()
    for endpoint in ENDPOINTS:
        assert endpoint in body


def test_the_model_permission_without_platform_staff_is_403_platform_scope():
    client = token_client(UserFactory(perms=["policies.view_firearm", "policies.add_firearm"]))
    response = client.post("/api/v1/firearms/", {"firearm_id": "firearm.x", "name": "X"}, format="json")
    _is_problem(response, 403, "platform_scope")
    assert not Firearm.objects.exists()


def test_history_rows_written_with_a_token_name_the_tokens_user():
    user = platform_staff(["policies.add_firearm", "policies.change_firearm"])
    client = token_client(user)
    created = client.post(
        "/api/v1/firearms/", {"firearm_id": "firearm.deploy", "name": "Deploy"}, format="json",
        HTTP_X_CHANGE_REASON="Release train needs it",
    )
    assert created.status_code == 201, created.content
    client.patch("/api/v1/firearms/firearm.deploy/", {"severity": "critical"}, format="json")
    history = list(Firearm.objects.get(firearm_id="firearm.deploy").history.order_by("history_date"))
    assert [row.history_type for row in history] == ["+", "~"]
    assert {row.history_user for row in history} == {user}
    assert history[0].history_change_reason == "Release train needs it"
