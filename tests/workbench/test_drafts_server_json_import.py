"""Import from a server.json (issue 15, item 4): POST /api/v1/drafts/import-server-json/ and the service
open a draft from a server listed in an MCP registry, with its tools when a tools/list result comes
along; every draft_create rule holds, and bad input writes nothing. The admin page is tested in
test_drafts_server_json_import_admin.py."""

import copy
import json

import pytest

from tests.registries.factories import ConnectorFactory
from tests.workbench.factories import token_client
from tests.workbench.publish_kit import ready_draft
from tests.workbench.server_json_import_kit import (
    NPM_SERVER,
    REMOTE_SERVER,
    URL,
    member,
    nothing_written,
    tools_list,
)
from workbench.kit.refusals import Refusal
from workbench.models import Membership, WorkbenchDraft
from workbench.services.drafts import draft_import_server_json, draft_publish

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post(URL, body, format="json")


def test_an_npm_server_json_opens_a_draft_with_its_metadata_and_no_policy():
    user = member()
    response = post(token_client(user), {"server": NPM_SERVER})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["connector_id"], body["stage"], body["revision"]) == ("weather", "definition", 1)
    assert response["ETag"] == '"1"'
    assert body["spec_snapshot"] == {
        "id": "weather",
        "name": "Weather",
        "description": "MCP server providing weather data and forecasts via OpenWeatherMap API",
        "version": "1.4.0",
        "packaging": {
            "registry_type": "npm",
            "identifier": "@acme/weather-mcp",
            "version": "1.4.0",
            "transport": "stdio",
        },
        "repository": NPM_SERVER["repository"],
        "website_url": "https://weather.acme.example/docs",
        "tools": [],
        "scopes": [],
        "portability": {},
    }
    assert body["policy_snapshot"] == {"firearms": {}, "kpis": {}}
    first = WorkbenchDraft.objects.get(pk=body["id"]).history.get()
    assert (first.history_user, first.history_change_reason) == (
        user, "imported from server.json io.github.acme/weather"
    )


def test_a_remote_only_server_takes_its_id_from_the_name_and_keeps_type_and_url_of_each_remote():
    response = post(token_client(member()), {"server": REMOTE_SERVER})
    assert response.status_code == 201, response.json()
    spec = response.json()["spec_snapshot"]
    assert (response.json()["connector_id"], spec["id"], spec["name"]) == (
        "ticket-desk", "ticket-desk", "Ticket_Desk"
    )
    assert spec["remotes"] == [
        {"type": "streamable-http", "url": "https://mcp.example.com/tickets/mcp"},
        {"type": "sse", "url": "https://mcp.example.com/tickets/sse"},
    ]
    assert spec["packaging"] == {} and "repository" not in spec and "website_url" not in spec


def test_with_a_tools_list_the_tools_arrive_and_scopes_are_proposed():
    client = token_client(member())
    rpc = {"jsonrpc": "2.0", "id": 1, "result": tools_list()}
    response = post(client, {"server": NPM_SERVER, "tools_list": rpc, "connector_id": "acme-weather"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["connector_id"], body["stage"]) == ("acme-weather", "scoping")
    assert body["spec_snapshot"]["tools"] == tools_list()["tools"]
    assert {s["name"]: s["tools"] for s in body["spec_snapshot"]["scopes"]} == {
        "read_only": ["get_forecast"], "write": ["set_alert"], "destructive": ["delete_alerts"]
    }
    assert body["policy_snapshot"] == {"firearms": {}, "kpis": {}}
    validation = client.post(f"/api/v1/drafts/{body['id']}/validate/").json()["validation"]
    undecided = sorted(f["path"] for f in validation["findings"] if f["code"] == "firearm_undecided")
    assert undecided == [f"policy_snapshot.firearms.{s}" for s in ("destructive", "read_only", "write")]


def test_an_invalid_server_json_is_400_naming_each_field_and_writes_nothing():
    bad = copy.deepcopy(NPM_SERVER)
    del bad["description"]
    bad["name"] = "weather"
    bad["packages"][0]["version"] = "latest"
    bad["repository"] = {"url": "https://github.com/acme/weather-mcp"}
    response = post(token_client(member()), {"server": bad})
    assert response.status_code == 400, response.json()
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"server.description", "server.name", "server.packages[0]", "server.repository.source"} <= fields
    assert all(field.startswith("server") for field in fields)
    assert nothing_written()


@pytest.mark.parametrize(
    ("server", "field"),
    [
        ("not an object", "server"),
        ([NPM_SERVER], "server"),
        ({**NPM_SERVER, "name": "io.example/2fa"}, "server.name"),  # "2fa" is no connector ID
        ({**NPM_SERVER, "description": "x" * 101}, "server.description"),
    ],
)
def test_documents_that_are_no_server_json_or_give_no_connector_id_are_400(server, field):
    response = post(token_client(member()), {"server": server})
    assert response.status_code == 400, response.json()
    assert field in {e["field"] for e in response.json()["errors"]}
    assert nothing_written()


def test_a_connector_id_sent_that_is_no_connector_id_is_400_naming_it():
    response = post(token_client(member()), {"server": NPM_SERVER, "connector_id": "Not_An_ID"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["connector_id"]
    assert nothing_written()


def test_invalid_tools_are_400_naming_each_and_write_nothing():
    broken = tools_list()
    broken["tools"].append({"name": "no schema"})
    response = post(token_client(member()), {"server": NPM_SERVER, "tools_list": broken})
    assert response.status_code == 400
    assert {"tools[3]", "tools[3].name"} <= {e["field"] for e in response.json()["errors"]}
    empty = post(token_client(member()), {"server": NPM_SERVER, "tools_list": {"tools": []}})
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "tools_list"
    assert nothing_written()


def test_only_a_writer_of_the_tenant_imports():
    viewer = member(role=Membership.Role.VIEWER)
    tenant = viewer.memberships.get().tenant
    response = post(token_client(viewer), {"tenant": tenant.slug, "server": NPM_SERVER})
    assert (response.status_code, response.json()["code"]) == (403, "not_a_writer")
    assert nothing_written()


def test_another_tenants_connector_is_403_not_connector_owner():
    ConnectorFactory(connector_id="weather")  # live, owned by another tenant
    response = post(token_client(member()), {"server": NPM_SERVER})
    assert (response.status_code, response.json()["code"]) == (403, "not_connector_owner")
    assert nothing_written()


def live_weather():
    """`weather` 1.2.0 published by its tenant: tools, two scopes, a firearm on admin_write."""
    draft = ready_draft("weather", "1.2.0")
    draft_publish(draft_id=draft.pk, user=draft.owner)
    return draft


def test_a_live_connector_opens_as_draft_create_would_with_the_metadata_on_top():
    published = live_weather()
    user = member(tenant=published.tenant)
    draft = draft_import_server_json(tenant=published.tenant, user=user, document=NPM_SERVER)
    spec, live = draft.spec_snapshot, published.spec_snapshot
    assert (spec["tools"], spec["scopes"]) == (live["tools"], live["scopes"])
    assert draft.policy_snapshot["firearms"] == published.policy_snapshot["firearms"]
    assert (spec["name"], spec["version"], spec["website_url"]) == (
        "Weather", "1.4.0", "https://weather.acme.example/docs"
    )
    # The same npm package: what server.json cannot say (bin) stays.
    assert spec["packaging"] == {
        "registry_type": "npm", "identifier": "@acme/weather-mcp", "version": "1.4.0", "transport": "stdio",
        "bin": "weather-mcp",
    }
    assert draft.stage == "definition"


@pytest.mark.parametrize("version", ["1.2.0", "1.1.9", "2.0.0-beta.1"])
def test_a_live_connectors_draft_goes_above_its_latest_version(version):
    published = live_weather()
    user = member(tenant=published.tenant)
    document = {**NPM_SERVER, "version": version}
    draft = draft_import_server_json(tenant=published.tenant, user=user, document=document)
    assert draft.spec_snapshot["version"] == "1.2.1"


def test_a_live_connector_with_a_tools_list_keeps_the_decisions_of_scopes_that_remain():
    published = live_weather()
    user = member(tenant=published.tenant)
    draft = draft_import_server_json(
        tenant=published.tenant, user=user, document=NPM_SERVER, tools_list=json.dumps(tools_list())
    )
    assert draft.stage == "scoping" and [t["name"] for t in draft.spec_snapshot["tools"]] == [
        "get_forecast", "set_alert", "delete_alerts"
    ]
    # admin_write and read_public are gone: so are their decisions.
    assert draft.policy_snapshot == {"firearms": {}, "kpis": {}}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "io.example/a\\u0000b"}',
        '{"name": "io.example/\\ud800"}',
        "[" * 5000 + "]" * 5000,
        b"\xff\xfe not utf-8",
        "{not json",
    ],
)
def test_hostile_text_is_refused_by_the_json_loader_naming_server(text):
    user = member()
    tenant = user.memberships.get().tenant
    with pytest.raises(Refusal) as refused:
        draft_import_server_json(tenant=tenant, user=user, document=text)
    assert refused.value.status == 400 and refused.value.errors[0]["field"] == "server"
    assert nothing_written()


def test_round_trip_through_the_export_when_it_exists():
    """The export's server.json of a published version, imported as a new connector, gives back the
    metadata it carries (the tools travel in tools/list, not in server.json)."""
    exporter = pytest.importorskip("registries.selectors.server_json")
    if not hasattr(exporter, "server_version"):
        pytest.skip("the server.json export is not there yet")
    extra = {"repository": NPM_SERVER["repository"], "website_url": NPM_SERVER["websiteUrl"]}
    draft = ready_draft("weather", "1.2.0", **extra)
    draft_publish(draft_id=draft.pk, user=draft.owner)
    document = exporter.server_version(connector_id="weather", version="latest")["server"]
    user = member(tenant=draft.tenant)
    copied = draft_import_server_json(
        tenant=draft.tenant, user=user, document=document, connector_id="weather-copy"
    )
    spec, published = copied.spec_snapshot, draft.spec_snapshot
    for field in ("name", "description", "version", "repository", "website_url"):
        assert spec[field] == published[field], field
    assert spec["packaging"] == {k: v for k, v in published["packaging"].items() if k != "bin"}


def test_a_package_without_a_version_takes_the_servers_version():
    """server.json lets an OCI image carry its tag in the identifier instead of a version; the contract's
    packaging needs one, so it is the server's."""
    oci = {**copy.deepcopy(NPM_SERVER), "version": "2.0.1"}
    oci["packages"] = [{
        "registryType": "oci", "identifier": "ghcr.io/acme/weather-mcp:2.0.1", "transport": {"type": "stdio"},
    }]
    response = post(token_client(member()), {"server": oci})
    assert response.status_code == 201, response.json()
    assert response.json()["spec_snapshot"]["packaging"] == {
        "registry_type": "oci", "identifier": "ghcr.io/acme/weather-mcp:2.0.1", "version": "2.0.1",
        "transport": "stdio",
    }


def test_a_packages_transport_url_and_file_digest_are_kept_for_the_export():
    server = {**copy.deepcopy(NPM_SERVER), "packages": [{
        "registryType": "mcpb", "identifier": "https://github.com/acme/weather/releases/download/v1.4.0/w.mcpb",
        "version": "1.4.0", "fileSha256": "a" * 64,
        "transport": {"type": "streamable-http", "url": "https://localhost:3000/mcp"},
    }]}
    response = post(token_client(member()), {"server": server})
    assert response.status_code == 201, response.json()
    packaging = response.json()["spec_snapshot"]["packaging"]
    assert (packaging["url"], packaging["file_sha256"], packaging["transport"]) == (
        "https://localhost:3000/mcp", "a" * 64, "streamable-http"
    )
