"""The MCP registry's list (GET /v0/servers?limit=100) vs. a plain view of the same rows, both over HTTP.

Subject: GET /v0/servers through the whole stack (middleware, token authentication, the registry's read
permission, parameter checks, the selector's query of the page's versions and its batch reads of their
scopes, firearm and KPI bindings and strategy locks, one server.json and ServerResponse per version, the
compact JSON writer) with a token-authenticated client of a user holding registries.view_connector.
Baseline: a plain view behind the same token authentication and permission that reads the same page of
versions (the same columns and JSON keys, in pk order, one more row to know whether a page follows) with
values() and answers json.dumps of them.

Data: `rows` connectors, each one published version with a realistic schema (12 tools, packaging,
repository), three scopes, a firearm on one scope and a KPI with a corridor on another; five strategy locks.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpResponse
from django.test.utils import override_settings
from django.urls import include, path
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from tests.bench.__main__ import best_of
from tests.bench.registry_kit import SCOPES_PER_CONNECTOR, bench_tools, getter, publish_connectors

REPEAT = 15
LIMIT = 100
COLUMNS = (
    "pk", "spec_id", "version", "name", "description", "published_at", "deprecated_at", "schema__name",
    "schema__description", "schema__packaging", "metadata__packaging", "schema__repository",
    "schema__website_url", "schema__remotes", "metadata__draft_id", "metadata__draft_revision",
)


class CanView(BasePermission):
    def has_permission(self, request, view):
        return request.user.is_authenticated and request.user.has_perm("registries.view_connector")


class PlainServers(APIView):
    """The least the list needs: token authentication, the permission, the page's rows as JSON."""

    permission_classes = [CanView]

    def get(self, request):
        from registries.models import ComponentSpec

        limit = min(int(request.query_params.get("limit", 30)), LIMIT)
        versions = ComponentSpec.objects.filter(kind="component", metadata__spec_class="mcp_connector")
        rows = list(versions.order_by("pk").values(*COLUMNS)[: limit + 1])
        body = {"servers": rows[:limit], "metadata": {"count": min(len(rows), limit)}}
        if len(rows) > limit:
            body["metadata"]["nextCursor"] = str(rows[limit - 1]["pk"])
        return HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), content_type="application/json")


urlpatterns = [path("bench/plain/v0/servers", PlainServers.as_view()), path("", include("workbench.urls"))]


def _schema(index):
    connector_id = f"bench-{index:06d}"
    return {
        "id": connector_id, "name": f"Bench {index}", "version": "1.0.0",
        "description": "A connector made up for the benchmark, described in a sentence of ordinary length.",
        "tools": bench_tools(index),
        "scopes": [{"name": f"scope_{number}", "tools": []} for number in range(SCOPES_PER_CONNECTOR)],
        "packaging": {"registry_type": "npm", "identifier": f"@bench/{connector_id}", "version": "1.0.0",
                      "transport": "stdio"},
        "repository": {"url": f"https://github.com/bench/{connector_id}", "source": "github"},
    }


def _metadata(index, schema):
    return {"packaging": schema["packaging"], "draft_id": f"draft_{index:012x}", "draft_revision": 4}


def _create_registry(rows):
    from policies.models import (
        Firearm,
        FirearmBinding,
        KpiCorridor,
        KpiDefinition,
        KpiToolBinding,
        StrategyLock,
    )

    connectors = publish_connectors(rows, schema=_schema, metadata=_metadata)
    firearm = Firearm.objects.create(firearm_id="firearm.bench_write", name="Bench write")
    FirearmBinding.objects.bulk_create(
        [FirearmBinding(action_name=f"{c.connector_id}:scope_0", firearm=firearm) for c in connectors],
        batch_size=1000,
    )
    kpi = KpiDefinition.objects.create(kpi_id="kpi.bench_errors", name="Bench errors", unit="%")
    KpiCorridor.objects.create(kpi=kpi, upper=5, critical_upper=10)
    KpiToolBinding.objects.bulk_create(
        [KpiToolBinding(action_name=f"{c.connector_id}:scope_1", kpi=kpi) for c in connectors],
        batch_size=1000,
    )
    for number in range(5):
        actions = [f"bench-{number:06d}:scope_2"]
        lock = StrategyLock.objects.create(name=f"bench-lock-{number}", actions=actions)
        lock.connectors.set(connectors[number * 10:number * 10 + 3])
    StrategyLock.objects.get(name="bench-lock-0").firearms.set([firearm])


def _check_same_rows(api_body, plain_body):
    api, plain = json.loads(api_body), json.loads(plain_body)
    servers = [item["server"] for item in api["servers"]]
    api_keys = [(server["name"].split("/", 1)[1], server["version"]) for server in servers]
    plain_keys = [(row["spec_id"], row["version"]) for row in plain["servers"]]
    if api_keys != plain_keys or not api_keys:
        raise SystemExit("registry_v0: the API page and the plain view read different rows.")


def run(*, rows):
    from tests.workbench.factories import UserFactory, token_client

    results = []
    with transaction.atomic(), override_settings(ROOT_URLCONF=__name__):
        _create_registry(rows)
        client = token_client(UserFactory(username="bench", perms=["registries.view_connector"]))
        subject = getter(client, f"/v0/servers?limit={LIMIT}")
        baseline = getter(client, f"/bench/plain/v0/servers?limit={LIMIT}")
        _check_same_rows(subject(), baseline())
        results.append((
            f"/v0/servers?limit={LIMIT} ({LIMIT} of {rows} versions)",
            best_of(baseline, REPEAT),
            best_of(subject, REPEAT),
        ))
        transaction.set_rollback(True)
    return results
