"""What a list page costs does not grow with the registry: the same statements at 10 and at 1,000 rows
(connectors, scopes, firearms), none of them a GROUP BY over every row, and no spec JSON read for a
page that does not show it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import Firearm
from registries.models import ComponentSpec, Connector, Scope
from tests.workbench.factories import TenantFactory, UserFactory, token_client

pytestmark = pytest.mark.django_db

# token (1), the user's permissions (1), the page's count (1), the page (1)
STATEMENTS = 4
SCOPES_PER_CONNECTOR = 3


def _registry(rows, start=0):
    owner = TenantFactory()
    big_schema = {"tools": [{"name": f"tool_{n}", "description": "x" * 200} for n in range(20)]}
    specs = ComponentSpec.objects.bulk_create([
        ComponentSpec(spec_id=f"cost-{index:05d}", version="1.0.0", version_major=1, name=f"Cost {index}",
                      kind=ComponentSpec.Kind.COMPONENT, schema=big_schema,
                      metadata={"spec_class": "mcp_connector"})
        for index in range(start, start + rows)
    ])
    connectors = Connector.objects.bulk_create([
        Connector(connector_id=spec.spec_id, name=spec.name, latest_spec=spec, owner=owner) for spec in specs
    ])
    Scope.objects.bulk_create([
        Scope(spec=spec, connector=connector, name=f"scope_{number}", tools=[f"tool_{number}"])
        for spec, connector in zip(specs, connectors, strict=True)
        for number in range(SCOPES_PER_CONNECTOR)
    ])
    Firearm.objects.bulk_create([
        Firearm(firearm_id=f"firearm.cost_{index:05d}", name=f"Cost {index}")
        for index in range(start, start + rows)
    ])


def _page(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in queries], response.json()


LISTS = {
    "connectors": ("registries.view_connector", 1),
    "scopes": ("registries.view_scope", SCOPES_PER_CONNECTOR),
    "firearms": ("policies.view_firearm", 1),
}


@pytest.mark.parametrize("endpoint", LISTS)
@pytest.mark.parametrize("query", ["", "?page_size=200", "?page=2&page_size=5"])
def test_a_list_page_sends_the_same_statements_at_10_and_1000_rows(endpoint, query):
    perm, per_row = LISTS[endpoint]
    client = token_client(UserFactory(perms=[perm]))
    url = f"/api/v1/{endpoint}/{query}"
    _registry(10)
    small, small_body = _page(client, url)
    _registry(990, start=10)
    large, large_body = _page(client, url)
    assert (small_body["count"], large_body["count"]) == (10 * per_row, 1000 * per_row)
    assert len(small) == len(large) == STATEMENTS, large
    assert not any("GROUP BY" in sql for sql in large), large
    # The spec's JSON (its MCP contract and metadata) is not read for a list that does not show it.
    assert not any('"schema"' in sql or '"metadata"' in sql for sql in large), large


def test_the_connector_list_counts_the_latest_versions_scopes_per_row():
    _registry(3)
    connector = Connector.objects.get(connector_id="cost-00001")
    newer = ComponentSpec.objects.create(
        spec_id=connector.connector_id, version="1.1.0", kind=ComponentSpec.Kind.COMPONENT,
        metadata={"spec_class": "mcp_connector"},
    )
    Scope.objects.create(spec=newer, connector=connector, name="only_one")
    Connector.objects.filter(pk=connector.pk).update(latest_spec=newer)
    client = token_client(UserFactory(perms=["registries.view_connector"]))
    page = client.get("/api/v1/connectors/").json()["results"]
    counts = {row["connector_id"]: row["scope_count"] for row in page}
    assert counts == {"cost-00000": 3, "cost-00001": 1, "cost-00002": 3}
    listed = client.get("/api/v1/connectors/?connector_id=cost-00001").json()["results"][0]
    assert (listed["latest_version"], listed["deprecated"], listed["owner"]) == (
        "1.1.0", False, connector.owner.slug
    )
