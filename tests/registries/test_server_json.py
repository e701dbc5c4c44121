"""server.json of published connector versions (issue 15's mapping): what each field is made of, and that
every document validates against the vendored server.schema.json."""

from decimal import Decimal

import pytest
from django.utils import timezone

from policies.models import StrategyLock
from registries.models import ComponentSpec
from registries.schemas.server_json import SCHEMA_URL, server_json_errors
from registries.selectors import server_json
from tests.policies.factories import (
    FirearmBindingFactory,
    FirearmFactory,
    KpiCorridorFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
    StrategyLockFactory,
)
from tests.registries.factories import (
    ConnectorFactory,
    ServerSpecFactory,
    contract_schema,
    published_connector,
)
from tests.registries.mcp_registry_kit import OFFICIAL, POLICY
from tests.workbench.environments_kit import load

pytestmark = pytest.mark.django_db

LONG = (
    "Reads and writes the issues, pull requests and files of every repository the token can reach, "
    "with a description far longer than server.json takes."
)


def _item(connector_id, version="latest"):
    return server_json.server_version(connector_id=connector_id, version=version)


def test_every_server_json_of_the_dev_environment_validates():
    load("dev")
    items, last = server_json.servers_page(limit=10_000)
    assert last is None
    published = ComponentSpec.objects.filter(kind="component", metadata__spec_class="mcp_connector")
    assert len(items) == published.count() > 0
    for item in items:
        assert server_json_errors(item["server"]) == [], item["server"]["name"]
        assert item["server"]["$schema"] == SCHEMA_URL
        connector_id = item["server"]["name"].removeprefix("io.workbench.local/")
        assert item["server"]["_meta"][POLICY]["connector"] == connector_id
        for version in server_json.server_versions(connector_id=connector_id):
            assert server_json_errors(version["server"]) == []


def test_the_fields_of_a_full_spec():
    published_connector(
        "github", ["1.0.0", "1.1.0"], scopes=("admin_write", "read_public"), description=LONG,
        repository={"url": "https://github.com/acme/github-mcp", "source": "github", "subfolder": "src"},
        website_url="https://acme.example/github", remotes=[{"type": "sse", "url": "https://mcp.acme.example/sse"}],
    )
    item = _item("github")
    server = item["server"]
    assert server_json_errors(server) == []
    assert server["name"] == "io.workbench.local/github"
    assert server["title"] == "Github"
    assert server["version"] == "1.1.0"
    assert len(server["description"]) <= 100
    assert server["description"].endswith("…")
    assert LONG.startswith(server["description"][:-1])
    assert LONG[len(server["description"]) - 1] == " "  # cut at a word boundary
    assert server["packages"] == [{
        "registryType": "npm", "identifier": "@acme/github-mcp", "version": "1.1.0",
        "transport": {"type": "stdio"},
    }]
    assert server["remotes"] == [{"type": "sse", "url": "https://mcp.acme.example/sse"}]
    assert server["repository"] == {
        "url": "https://github.com/acme/github-mcp", "source": "github", "subfolder": "src"
    }
    assert server["websiteUrl"] == "https://acme.example/github"
    policy = server["_meta"][POLICY]
    assert policy["description"] == LONG
    assert policy["publishedFrom"] == {"draft": "draft_github", "revision": 3}
    assert [scope["action"] for scope in policy["scopes"]] == ["github:admin_write", "github:read_public"]
    assert item["_meta"][OFFICIAL]["isLatest"] is True
    assert _item("github", "1.0.0")["_meta"][OFFICIAL]["isLatest"] is False


def test_the_policy_travels_in_meta():
    github = published_connector("github", scopes=("admin_write", "read_public"))
    published_connector("slack", scopes=("post",))
    firearm = FirearmFactory(firearm_id="firearm.write")
    FirearmBindingFactory(action_name="github:admin_write", firearm=firearm)
    kpi = KpiDefinitionFactory(kpi_id="kpi.error_rate", name="Error rate", unit="%")
    KpiCorridorFactory(kpi=kpi, lower=None, upper=Decimal("5"), critical_upper=Decimal("10.5000"))
    KpiToolBindingFactory(action_name="github:read_public", kpi=kpi, effect="observes")
    by_connector = StrategyLockFactory(name="freeze-github", engaged=True, reason="audit")
    by_connector.connectors.set([github])
    StrategyLockFactory(name="by-action", actions=["github:read_public"])
    StrategyLockFactory(name="by-firearm").firearms.set([firearm])
    StrategyLockFactory(name="elsewhere", actions=["slack:post"])

    policy = _item("github")["server"]["_meta"][POLICY]
    admin, read = policy["scopes"]
    assert admin == {
        "name": "admin_write", "action": "github:admin_write", "tools": ["admin_write_tool"],
        "firearm": "firearm.write", "kpis": [],
    }
    assert read["firearm"] is None
    assert read["kpis"] == [{
        "kpi": "kpi.error_rate", "name": "Error rate", "unit": "%", "direction": kpi.direction,
        "effect": "observes",
        "corridor": {"lower": None, "upper": "5", "criticalLower": None, "criticalUpper": "10.5"},
    }]
    assert policy["strategyLocks"] == [
        {"name": "by-action", "engaged": False},
        {"name": "by-firearm", "engaged": False},
        {"name": "freeze-github", "engaged": True},
    ]
    assert _item("slack")["server"]["_meta"][POLICY]["strategyLocks"] == [
        {"name": "elsewhere", "engaged": False}
    ]
    assert StrategyLock.objects.count() == 4


@pytest.mark.parametrize(
    ("packaging", "expected"),
    [
        ({"registry_type": "oci", "identifier": "ghcr.io/acme/mcp:1.0.0", "version": "1.0.0"},
         [{"registryType": "oci", "identifier": "ghcr.io/acme/mcp:1.0.0", "version": "1.0.0",
           "transport": {"type": "stdio"}}]),
        ({"registry_type": "pypi", "identifier": "acme-mcp", "version": "1.0.0",
          "transport": "streamable-http", "url": "http://localhost:8000/mcp"},
         [{"registryType": "pypi", "identifier": "acme-mcp", "version": "1.0.0",
           "transport": {"type": "streamable-http", "url": "http://localhost:8000/mcp"}}]),
        # An HTTP transport without its url, an MCPB file without its sha256: no valid package to give.
        ({"registry_type": "nuget", "identifier": "Acme.Mcp", "version": "1.0.0", "transport": "sse"}, None),
        ({"registry_type": "mcpb", "identifier": "https://github.com/acme/mcp/releases/download/v1/s.mcpb",
          "version": "1.0.0"}, None),
        ({"registry_type": "mcpb", "identifier": "https://github.com/acme/mcp/releases/download/v1/s.mcpb",
          "version": "1.0.0", "file_sha256": "a" * 64},
         [{"registryType": "mcpb", "identifier": "https://github.com/acme/mcp/releases/download/v1/s.mcpb",
           "version": "1.0.0", "transport": {"type": "stdio"}, "fileSha256": "a" * 64}]),
        ({}, None),
    ],
)
def test_packages_are_the_ones_the_schema_takes(packaging, expected):
    published_connector("acme", packaging=packaging)
    server = _item("acme")["server"]
    assert server.get("packages") == expected
    assert server_json_errors(server) == []


def test_an_empty_description_and_title_still_make_a_valid_document():
    spec = ServerSpecFactory(
        spec_id="bare", name="", description="", schema=contract_schema("bare", description="", name="")
    )
    ConnectorFactory(connector_id="bare", latest_spec=spec)
    server = _item("bare")["server"]
    assert "title" not in server
    assert server["description"] == "MCP connector bare"
    assert server_json_errors(server) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("x" * 100, "x" * 100),
        ("x" * 101, "x" * 99 + "…"),
        ("word " * 30, ("word " * 20).rstrip() + "…"),
    ],
)
def test_short_description(text, expected):
    assert server_json.short_description(text) == expected
    assert len(server_json.short_description(text)) <= 100


def test_the_namespace_is_a_setting(settings):
    settings.WORKBENCH_REGISTRY_NAMESPACE = "com.example.tools"
    published_connector("github")
    assert _item("github")["server"]["name"] == "com.example.tools/github"


def test_a_deprecated_version_is_deprecated_and_updated_when_deprecated():
    connector = published_connector("github", ["1.0.0", "1.1.0"])
    old = connector.versions.get(version="1.0.0")
    ComponentSpec.objects.filter(pk=old.pk).update(deprecated_at=timezone.now())
    official = _item("github", "1.0.0")["_meta"][OFFICIAL]
    assert official["status"] == "deprecated"
    assert official["updatedAt"] != official["publishedAt"]
    assert official["updatedAt"].endswith("Z")
    assert _item("github")["_meta"][OFFICIAL]["status"] == "active"


@pytest.mark.parametrize(
    ("url", "valid"),
    [("https://example.com/x", True), ("mailto:team@example.com", True), ("not a uri", False),
     ("https://", False), ("https://[::1", False), ("example.com", False)],
)
def test_uri_fields_are_checked_as_uris(url, valid):
    from registries.schemas.server_json import server_json_errors

    document = {"name": "io.workbench.local/x", "description": "d", "version": "1.0.0", "websiteUrl": url}
    assert (server_json_errors(document) == []) is valid
