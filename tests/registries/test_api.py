"""Registries API: connectors with their versions, specs (and deprecation), scopes, routing."""

import pytest

from registries.models import ComponentSpec, Connector, EngineRoute, RoutingConfig
from tests.registries.factories import (
    ComponentSpecFactory,
    ConnectorFactory,
    ConnectorSpecFactory,
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


@pytest.fixture
def github():
    """github 1.0.0 (scope read_public) and the latest 1.1.0 (scopes admin_write, read_public)."""
    connector = ConnectorFactory(connector_id="github", name="GitHub")
    ScopeFactory(connector=connector, name="read_public")
    latest = ConnectorSpecFactory(spec_id="github", version="1.1.0")
    connector.latest_spec = latest
    connector.save()
    ScopeFactory(connector=connector, spec=latest, name="read_public")
    ScopeFactory(connector=connector, spec=latest, name="admin_write", tools=["delete_file"])
    return connector


@pytest.fixture
def reader():
    return token_client(UserFactory(perms=[
        "registries.view_connector", "registries.view_componentspec", "registries.view_scope",
    ]))


def test_connector_list_shows_latest_version_and_its_scope_count(reader, github):
    ConnectorFactory(connector_id="slack")
    rows = reader.get("/api/v1/connectors/").json()["results"]
    assert [(r["connector_id"], r["latest_version"], r["scope_count"]) for r in rows] == [
        ("github", "1.1.0", 2), ("slack", "1.0.0", 0),
    ]
    assert rows[0]["deprecated"] is False


def test_connector_detail_lists_the_scopes_of_the_latest_version(reader, github):
    body = reader.get("/api/v1/connectors/github/").json()
    assert body["latest_version"] == "1.1.0"
    assert body["scope_count"] == 2
    assert [(s["name"], s["tools"]) for s in body["scopes"]] == [
        ("admin_write", ["delete_file"]), ("read_public", ["get_file_contents"]),
    ]


def test_connector_filters_and_search(reader, github):
    ConnectorFactory(connector_id="slack", name="Slack")
    assert reader.get("/api/v1/connectors/?connector_id=slack").json()["count"] == 1
    assert reader.get("/api/v1/connectors/?name=git").json()["results"][0]["connector_id"] == "github"
    assert reader.get("/api/v1/connectors/?search=slack").json()["count"] == 1
    ordered = reader.get("/api/v1/connectors/?ordering=-connector_id").json()["results"]
    assert [r["connector_id"] for r in ordered] == ["slack", "github"]


def test_connector_versions_newest_first_with_deprecation(reader, github):
    ConnectorSpecFactory(spec_id="github", version="1.10.0")
    old = ComponentSpec.objects.get(spec_id="github", version="1.0.0")
    ComponentSpec.objects.filter(pk=old.pk).update(deprecation_message="use 1.1.0")
    ComponentSpecFactory(spec_id="github", version="9.0.0", kind="atom")  # not a connector version
    rows = reader.get("/api/v1/connectors/github/versions/").json()["results"]
    assert [r["version"] for r in rows] == ["1.10.0", "1.1.0", "1.0.0"]
    assert [r["deprecation_message"] for r in rows] == ["", "", "use 1.1.0"]


def test_connector_versions_need_the_spec_view_permission_too(github):
    client = token_client(UserFactory(perms=["registries.view_connector"]))
    assert client.get("/api/v1/connectors/github/").status_code == 200
    assert client.get("/api/v1/connectors/github/versions/").status_code == 403


def test_unknown_connector_is_404(reader):
    assert reader.get("/api/v1/connectors/nothing/").status_code == 404
    assert reader.get("/api/v1/connectors/nothing/versions/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("spec_id=lens-a", ["lens-a@1.0.0"]),
        ("kind=lens", ["lens-a@1.0.0"]),
        ("kind=component", ["github@1.1.0", "github@1.0.0"]),
        ("spec_class=mcp_connector", ["github@1.1.0", "github@1.0.0"]),
        ("deprecated=true", ["atom-b@2.0.0"]),
        ("spec_id=atom-b&deprecated=false", []),
    ],
)
def test_spec_filters(reader, github, query, expected):
    ComponentSpecFactory(spec_id="lens-a", kind="lens")
    ComponentSpecFactory(spec_id="atom-b", version="2.0.0", deprecation_message="gone")
    ComponentSpec.objects.filter(spec_id="atom-b").update(deprecated_at="2026-01-01T00:00:00Z")
    rows = reader.get(f"/api/v1/specs/?{query}").json()["results"]
    assert [f"{r['spec_id']}@{r['version']}" for r in rows] == expected


def test_deprecate_a_spec_version_with_the_change_permission(github):
    spec = ComponentSpec.objects.get(spec_id="github", version="1.0.0")
    perms = ["registries.view_componentspec", "registries.change_componentspec"]
    # Specs are platform-wide: the change permission alone (a tenant's owner) is not enough.
    tenant_owner = MembershipFactory(user=UserFactory(perms=perms), role="owner").user
    refused = token_client(tenant_owner).post(
        f"/api/v1/specs/{spec.pk}/deprecate/", {"message": "Use 1.1.0"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "platform_scope")
    assert ComponentSpec.objects.get(pk=spec.pk).deprecated_at is None
    client = token_client(platform_staff(perms))
    response = client.post(f"/api/v1/specs/{spec.pk}/deprecate/", {"message": "Use 1.1.0"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["deprecated"] is True
    assert response.json()["deprecation_message"] == "Use 1.1.0"
    spec.refresh_from_db()
    assert spec.deprecated_at is not None


def test_deprecate_needs_the_change_permission_and_a_message(reader, github):
    spec = github.latest_spec
    url = f"/api/v1/specs/{spec.pk}/deprecate/"
    assert reader.post(url, {"message": "x"}, format="json").status_code == 403
    admin = token_client(SuperuserFactory())
    response = admin.post(url, {"message": "  "}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["message"]
    assert ComponentSpec.objects.get(pk=spec.pk).deprecated_at is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("connector=github", ["1.0.0 read_public", "1.1.0 admin_write", "1.1.0 read_public"]),
        ("connector=github&version=1.0.0", ["1.0.0 read_public"]),
        ("connector=github&latest=true", ["1.1.0 admin_write", "1.1.0 read_public"]),
        ("connector=github&latest=false", ["1.0.0 read_public"]),
        ("name=admin_write", ["1.1.0 admin_write"]),
    ],
)
def test_scope_filters(reader, github, query, expected):
    ScopeFactory(name="other_scope")
    rows = reader.get(f"/api/v1/scopes/?{query}").json()["results"]
    assert [f"{r['version']} {r['name']}" for r in rows] == expected
    assert all(r["action_name"] == f"github:{r['name']}" for r in rows)


def test_routing_crud_by_resource_kind():
    client = token_client(SuperuserFactory())
    created = client.post("/api/v1/routing/", {"resource_kind": "leads", "backend_type": "TabularStore"},
                          format="json")
    assert created.status_code == 201, created.content
    assert client.patch("/api/v1/routing/leads/", {"backend_type": "VersionedStore"},
                        format="json").json()["backend_type"] == "VersionedStore"
    bad = client.post("/api/v1/routing/", {"resource_kind": "Leads!", "backend_type": "X"}, format="json")
    assert [e["field"] for e in bad.json()["errors"]] == ["resource_kind"]
    assert client.delete("/api/v1/routing/leads/").status_code == 204
    assert not RoutingConfig.objects.exists()


def test_engine_routes_by_id_and_found_by_pattern():
    ConnectorFactory(connector_id="chat")
    client = token_client(SuperuserFactory())
    body = {"pattern": "/chat/*", "connector": "chat"}
    created = client.post("/api/v1/engine-routes/", body, format="json")
    assert created.status_code == 201, created.content
    found = client.get("/api/v1/engine-routes/", {"pattern": "/chat/*"}).json()["results"]
    assert [(r["id"], r["connector"]) for r in found] == [(created.json()["id"], "chat")]
    route_id = created.json()["id"]
    assert client.patch(f"/api/v1/engine-routes/{route_id}/", {"connector": None},
                        format="json").json()["connector"] is None
    assert client.get("/api/v1/engine-routes/?wrapped=false").json()["count"] == 1
    unknown = client.post("/api/v1/engine-routes/", {"pattern": "/x", "connector": "nope"}, format="json")
    assert [e["field"] for e in unknown.json()["errors"]] == ["connector"]
    assert client.delete(f"/api/v1/engine-routes/{route_id}/").status_code == 204
    assert not EngineRoute.objects.filter(pk=route_id).exists()


def test_platform_staff_transfer_a_connector_to_another_tenant(github):
    acme = TenantFactory(slug="acme")
    perms = ["registries.view_connector", "registries.change_connector"]
    url = "/api/v1/connectors/github/transfer/"
    body = {"tenant": "acme", "reason": "acme maintains it now"}
    # The owning tenant's owner holding the permission may not give it away: transfers are the platform's.
    owner = MembershipFactory(tenant=github.owner, user=UserFactory(perms=perms), role="owner").user
    refused = token_client(owner).post(url, body, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "platform_scope")
    assert token_client(UserFactory(perms=["registries.view_connector"])).post(url, body).status_code == 403

    staff_user = platform_staff(perms)
    client = token_client(staff_user)
    no_reason = client.post(url, {"tenant": "acme", "reason": ""}, format="json")
    assert no_reason.status_code == 400
    response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["owner"] == "acme"
    assert Connector.objects.get(connector_id="github").owner == acme
    record = Connector.objects.get(connector_id="github").history.latest()
    assert record.history_user == staff_user
    assert record.history_change_reason.endswith(f"-> acme: {body['reason']}")
    again = client.post(url, body, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "no_change")
    assert client.get("/api/v1/connectors/github/").json()["owner"] == "acme"
