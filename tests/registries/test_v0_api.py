"""The MCP Registry read API under /v0/: answers as openapi.yaml describes them, cursor pages, latest and
deprecated versions, errors in the registry's shape, who may read, and a query count flat in servers."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registries.models import ComponentSpec
from registries.selectors import server_json
from registries.services import component_spec_deprecate
from tests.policies.factories import (
    FirearmBindingFactory,
    FirearmFactory,
    KpiToolBindingFactory,
    StrategyLockFactory,
)
from tests.registries.factories import ComponentSpecFactory, published_connector
from tests.registries.mcp_registry_kit import (
    OFFICIAL,
    error_schema_errors,
    name_path,
    openapi_errors,
    reader,
    version_url,
    versions_url,
    walk,
)
from tests.workbench.environments_kit import load
from tests.workbench.factories import UserFactory, platform_staff, token_client
from tests.workbench.publish_kit import ready_draft
from workbench.services.drafts import draft_publish

pytestmark = pytest.mark.django_db

VERSION_PATH = "/v0/servers/{serverName}/versions/{version}"


def _connectors(count, versions=("1.0.0",)):
    return [published_connector(f"conn-{index:04d}", versions) for index in range(count)]


def test_every_answer_of_the_dev_environment_validates_against_openapi_yaml():
    load("dev")
    client = reader()
    items, pages = walk(client, "?limit=2")
    assert pages > 1
    total = ComponentSpec.objects.filter(kind="component", metadata__spec_class="mcp_connector").count()
    assert len(items) == total
    for item in items:
        assert not openapi_errors("ServerResponse", item)
        connector_id = item["server"]["name"].split("/", 1)[1]
        versions = client.get(versions_url(connector_id))
        assert versions.status_code == 200
        assert not openapi_errors("ServerList", versions.json())
        for version in (item["server"]["version"], "latest"):
            one = client.get(version_url(connector_id, version))
            assert one.status_code == 200, one.content
            assert one["Content-Type"] == "application/json"
            assert not openapi_errors("ServerResponse", one.json())


def test_a_cursor_walk_returns_each_version_once_in_pages_of_limit():
    _connectors(7, ("1.0.0", "1.1.0"))
    client = reader()
    first = client.get("/v0/servers?limit=3").json()
    assert first["metadata"]["count"] == 3 and "nextCursor" in first["metadata"]
    items, pages = walk(client, "?limit=3")
    assert pages == 5  # 14 versions, 3 a page
    keys = [(item["server"]["name"], item["server"]["version"]) for item in items]
    assert len(keys) == len(set(keys)) == 14
    default, _ = walk(client)
    assert len(default) == 14  # one page of the default 30


def test_a_spec_of_another_class_with_a_connectors_id_is_not_a_version():
    published_connector("github", ["1.0.0", "1.1.0"])
    ComponentSpecFactory(spec_id="github", version="0.9.0")  # an atom, made in the admin
    published_connector("slack")
    client = reader()
    items, _ = walk(client, "?limit=1")
    assert [(i["server"]["name"], i["server"]["version"]) for i in items] == [
        ("io.workbench.local/github", "1.0.0"), ("io.workbench.local/github", "1.1.0"),
        ("io.workbench.local/slack", "1.0.0"),
    ]
    assert client.get(version_url("github", "0.9.0")).status_code == 404
    assert len(client.get(versions_url("github")).json()["servers"]) == 2


def test_versions_are_newest_first_and_latest_is_the_connectors_latest():
    published_connector("github", ["1.0.0", "1.1.0", "1.2.0"])
    client = reader()
    body = client.get(versions_url("github")).json()
    assert [item["server"]["version"] for item in body["servers"]] == ["1.2.0", "1.1.0", "1.0.0"]
    assert [item["_meta"][OFFICIAL]["isLatest"] for item in body["servers"]] == [True, False, False]
    assert body["metadata"]["count"] == 3
    latest = client.get(version_url("github", "latest")).json()
    assert latest["server"]["version"] == "1.2.0"
    assert latest == client.get(version_url("github", "1.2.0")).json()


def test_the_list_keeps_each_servers_latest_or_one_version_when_asked():
    published_connector("github", ["1.0.0", "1.1.0"])
    published_connector("stripe", ["1.0.0"])
    client = reader()

    def listed(query):
        servers = client.get(f"/v0/servers?{query}").json()["servers"]
        return [(item["server"]["name"].split("/")[-1], item["server"]["version"]) for item in servers]

    assert listed("version=latest") == [("github", "1.1.0"), ("stripe", "1.0.0")]
    assert listed("version=1.0.0") == [("github", "1.0.0"), ("stripe", "1.0.0")]
    assert listed("version=2.0.0") == []


def test_latest_moves_on_publish():
    first = ready_draft(connector_id="github", version="1.2.0")
    draft_publish(draft_id=first.pk, user=first.owner)
    client = reader()
    assert client.get(version_url("github", "latest")).json()["server"]["version"] == "1.2.0"
    second = ready_draft(connector_id="github", version="1.3.0", owner=first.owner, tenant=first.tenant)
    draft_publish(draft_id=second.pk, user=second.owner)
    latest = client.get(version_url("github", "latest")).json()
    assert latest["server"]["version"] == "1.3.0"
    assert latest["server"]["_meta"]["io.workbench/policy"]["publishedFrom"] == {
        "draft": second.pk, "revision": second.revision
    }
    old = client.get(version_url("github", "1.2.0")).json()
    assert old["_meta"][OFFICIAL]["isLatest"] is False
    assert not openapi_errors("ServerResponse", latest)


def test_a_deprecated_version_answers_status_deprecated():
    connector = published_connector("github", ["1.0.0", "1.1.0"])
    component_spec_deprecate(
        spec=connector.versions.get(version="1.0.0"), message="Use 1.1.0.",
        user=platform_staff(["registries.change_componentspec"]),
    )
    client = reader()
    old = client.get(version_url("github", "1.0.0")).json()
    assert old["_meta"][OFFICIAL]["status"] == "deprecated"
    assert old["_meta"][OFFICIAL]["updatedAt"] > old["_meta"][OFFICIAL]["publishedAt"]
    assert client.get(version_url("github", "1.1.0")).json()["_meta"][OFFICIAL]["status"] == "active"
    assert not openapi_errors("ServerResponse", old)


def test_search_and_updated_since():
    published_connector("github")
    published_connector("gitlab")
    published_connector("slack")
    client = reader()
    names = lambda query: [i["server"]["name"] for i in client.get("/v0/servers" + query).json()["servers"]]  # noqa: E731
    assert names("?search=GIT") == ["io.workbench.local/github", "io.workbench.local/gitlab"]
    assert names("?search=local%2Fsl") == ["io.workbench.local/slack"]
    assert names("?search=nothing") == []
    slack = ComponentSpec.objects.get(spec_id="slack")
    since = slack.published_at.isoformat().replace("+00:00", "Z")
    assert names(f"?updated_since={since}") == []
    before = ComponentSpec.objects.get(spec_id="github").published_at.isoformat().replace("+00:00", "Z")
    assert names(f"?updated_since={before}") == ["io.workbench.local/gitlab", "io.workbench.local/slack"]


@pytest.mark.parametrize(
    "url",
    [
        versions_url("nothing"),
        version_url("nothing", "1.0.0"),
        version_url("github", "9.9.9"),
        version_url("github", "latest%00"),
        version_url("github", "1.0"),
        f"/v0/servers/{name_path('github', 'com.other')}/versions",
        "/v0/servers/io.workbench.local%2FGitHub/versions",
        "/v0/servers/io.workbench.local%2Fgit%00hub/versions",
        "/v0/servers/%2F/versions",
        "/v0/servers/github/versions/1.0.0",
    ],
)
def test_unknown_names_and_versions_answer_the_documented_404(url):
    published_connector("github")
    response = reader().get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    # The view's "Server not found", or the middleware's answer to a control character in the path.
    assert response.json()["error"] in ("Server not found", "No such resource.")
    assert not error_schema_errors(VERSION_PATH, "get", 404, response.json())


def test_other_v0_urls_and_publish_are_not_found():
    client = reader()
    for response in (client.post("/v0/publish", {}, format="json"), client.get("/v0/nothing")):
        assert response.status_code == 404
        assert response.json() == {"error": "Not found"}
    assert client.post("/v0/servers", {}, format="json").status_code == 405


@pytest.mark.parametrize(
    "query",
    [
        "limit=0", "limit=101", "limit=-1", "limit=99999999999999999999999999", "limit=%D9%A1%D9%A0",
        "limit=%EF%BC%91", "limit=1.5", "limit=%2010", "limit=%00", "search=%00", "search=a%01b",
        "search=" + "x" * 201, "cursor=%00", "cursor=nonsense", "cursor=" + "A" * 500,
        "cursor=" + base64.urlsafe_b64encode(b"spec:-1").decode(), "cursor=" + base64.urlsafe_b64encode(
            b"spec:\xd9\xa1").decode(), "updated_since=yesterday", "updated_since=2025-13-45T00:00:00Z",
        "updated_since=2025-01-01T00:00:00", "updated_since=%00", "updated_since=2025-01-01T00:00:00%2B99:00",
        # no UTC time (the query is in UTC): year 1 ahead of UTC, year 9999 behind it
        "updated_since=0001-01-01T00:00:00%2B01:00", "updated_since=9999-12-31T23:59:59-01:00",
        "version=newest", "version=1.0", "version=%00", "version=%D9%A1.0.0",
    ],
)
def test_hostile_query_parameters_answer_400_in_the_registrys_shape(query):
    published_connector("github")
    response = reader().get(f"/v0/servers?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}


def test_a_token_with_the_view_permission_is_needed_unless_public(settings):
    published_connector("github")
    anonymous = APIClient()
    response = anonymous.get("/v0/servers")
    assert response.status_code == 401
    assert set(response.json()) == {"error"}
    assert token_client(UserFactory()).get("/v0/servers").status_code == 403
    assert reader().get("/v0/servers").status_code == 200
    settings.WORKBENCH_REGISTRY_PUBLIC = True
    for url in ("/v0/servers", versions_url("github"), version_url("github", "latest")):
        assert anonymous.get(url).status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert bad.get("/v0/servers").status_code == 401  # a token that is sent must be a real one


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/v0/servers?limit=100")
    assert response.status_code == 200
    return len(queries.captured_queries), response.json()["metadata"]["count"]


def test_the_list_costs_the_same_queries_at_10_and_200_connectors():
    client = reader()
    first = _connectors(10)[0]
    FirearmBindingFactory(action_name="conn-0000:read")
    KpiToolBindingFactory(action_name="conn-0000:read")
    lock = StrategyLockFactory(actions=["conn-0001:read"])
    lock.connectors.set([first])
    lock.firearms.set([FirearmFactory()])
    client.get("/v0/servers")  # warm per-process caches (content types, permissions)
    ten, count = _list_queries(client)
    assert count == 10
    for index in range(10, 200):
        published_connector(f"conn-{index:04d}")
    many, count = _list_queries(client)
    assert count == 100
    assert ten == many
    # token, permissions, versions, scopes, firearm and KPI bindings, strategy locks and their connectors
    # and firearms
    assert many == 9


def test_the_cursor_is_the_last_versions_pk():
    _connectors(3)
    body = reader().get("/v0/servers?limit=2").json()
    second = ComponentSpec.objects.order_by("pk")[1]
    assert server_json.decode_cursor(body["metadata"]["nextCursor"]) == second.pk
