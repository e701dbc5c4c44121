"""GET /api/v1/coverage/: the coverage report as JSON, row for row the golden coverage.tsv, with the
wrapper and the reasons beside each row; paginated, filterable, permission-checked like the coverage
export, documented, and a fixed number of queries whatever the number of routes."""

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registries.models import EngineRoute
from tests.workbench.exchange_kit import (
    ACME_SECRET,
    acme_draft_route,
    body,
    connector_row,
    expected,
    golden_registry,
    publish_version,
)
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    WorkbenchDraftFactory,
    token_client,
)
from workbench.selectors.coverage import COVERAGE_PERMISSIONS

pytestmark = pytest.mark.django_db

URL = "/api/v1/coverage/"
ENTITLEMENT = {
    "code": "missing_dependency",
    "message": "missing dependency: entitlement store (declares billing.seats)",
    "entitlement": "billing.seats",
}


def reader(**extra):
    return UserFactory(perms=list(COVERAGE_PERMISSIONS), **extra)


def test_each_route_is_the_tsv_row_with_its_wrapper_and_reasons():
    golden_registry()

    answer = token_client(reader()).get(URL).json()

    assert answer["count"] == 6
    rows = answer["results"]
    tsv_rows = [line.split("\t") for line in expected("coverage").decode().splitlines()[1:]]
    assert [[row["engine_route"], row["status"], f"{row['policy_coverage']}%"] for row in rows] == tsv_rows
    payments = next(row for row in rows if row["engine_route"] == "/payments/*")
    assert payments == {
        "engine_route": "/payments/*",
        "status": "PARTIAL",
        "policy_coverage": 100,
        "decided_scopes": 3,
        "scopes": 3,
        "connector": "stripe",
        "wrapper": {"kind": "published", "version": "1.0.0", "draft_id": None},
        "reasons": [ENTITLEMENT],
    }
    search = next(row for row in rows if row["engine_route"] == "/search/*")
    assert (search["status"], search["reasons"]) == ("DONE", [])
    voice = next(row for row in rows if row["engine_route"] == "/voice/*")
    assert (voice["connector"], voice["wrapper"], [r["code"] for r in voice["reasons"]]) == (
        None, None, ["no_connector"]
    )


def test_a_draft_wrapper_is_named_only_to_its_tenants_members():
    tenant = TenantFactory()
    draft = WorkbenchDraftFactory(connector_id="video-gen", tenant=tenant)
    EngineRoute.objects.create(pattern="/video/*", connector=connector_row("video-gen", owner=tenant))
    member = reader()
    MembershipFactory(tenant=tenant, user=member)

    [mine] = token_client(member).get(URL).json()["results"]
    [theirs] = token_client(reader()).get(URL).json()["results"]

    assert mine["wrapper"] == {"kind": "draft", "version": None, "draft_id": draft.pk}
    assert theirs["wrapper"] == {"kind": "draft", "version": None, "draft_id": None}
    assert theirs["status"] == mine["status"] == "PARTIAL"
    assert draft.pk not in str(theirs)


def test_another_tenants_draft_shows_only_what_coverage_tsv_shows():
    # PRODUCT.md section 4: members of other tenants never see a draft, so not what it declares either.
    draft, insider, outsider = acme_draft_route()

    [mine] = token_client(insider).get(URL).json()["results"]
    theirs = token_client(outsider).get(URL)

    assert (mine["decided_scopes"], mine["scopes"]) == (2, 3)
    assert [reason["entitlement"] for reason in mine["reasons"]] == [None, None, ACME_SECRET]
    assert draft.pk not in theirs.content.decode() and ACME_SECRET not in theirs.content.decode()
    assert theirs.json()["results"] == [
        {
            "engine_route": "/zoom/*",
            "status": "PARTIAL",
            "policy_coverage": 66,
            "decided_scopes": None,
            "scopes": None,
            "connector": "zoom",
            "wrapper": {"kind": "draft", "version": None, "draft_id": None},
            "reasons": [
                {
                    "code": "draft_only",
                    "message": "only an open draft wraps the route: nothing is published",
                    "entitlement": None,
                },
            ],
        }
    ]
    # The file has its three columns for every reader (PRODUCT.md section 6): the same bytes for both.
    files = [body(token_client(user).get("/api/v1/exports/coverage.tsv")) for user in (insider, outsider)]
    header = b"engine_route\tmcp_wrapper_status\tpolicy_coverage\n"
    assert files[0] == files[1] == header + b"/zoom/*\tPARTIAL\t66%\n"


def test_the_list_is_paginated_and_filterable():
    golden_registry()
    client = token_client(reader())

    first = client.get(URL, {"page_size": 4}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 6 and len(first["results"]) == 4
    assert [row["engine_route"] for row in second["results"]] == ["/video/*", "/voice/*"]
    assert second["next"] is None
    assert [row["engine_route"] for row in client.get(URL, {"connector": "stripe"}).json()["results"]] == [
        "/payments/*"
    ]
    assert client.get(URL, {"pattern": "/chat/*"}).json()["count"] == 1
    assert client.get(URL, {"page": "9"}).status_code == 404
    refused = client.get(URL, {"page_size": "²"})
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_page")


@pytest.mark.parametrize("missing", COVERAGE_PERMISSIONS)
def test_it_needs_every_permission_of_the_coverage_export(missing):
    user = UserFactory(perms=[perm for perm in COVERAGE_PERMISSIONS if perm != missing])
    response = token_client(user).get(URL)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_it_needs_authentication_and_is_read_only(client):
    assert client.get(URL).status_code == 401
    response = token_client(reader()).post(URL, {})
    assert response.status_code == 405


def test_queries_do_not_grow_with_routes():
    user = reader()
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=user)
    client = token_client(user)

    def add_routes(start, count):
        for index in range(start, start + count):
            live = publish_version(f"live-{index:02d}", "1.0.0", ["a", "b"], entitlements=["billing.x"])
            EngineRoute.objects.create(pattern=f"/live-{index:02d}/*", connector=live)
            drafted = connector_row(f"drafted-{index:02d}", owner=tenant)
            WorkbenchDraftFactory(connector_id=f"drafted-{index:02d}", tenant=tenant)
            EngineRoute.objects.create(pattern=f"/drafted-{index:02d}/*", connector=drafted)
            EngineRoute.objects.create(pattern=f"/none-{index:02d}/*")

    add_routes(0, 2)
    client.get(URL)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    add_routes(2, 15)
    with CaptureQueriesContext(connection) as many:
        answer = client.get(URL).json()

    assert len(answer["results"]) == 50
    assert len(many) == len(few), "\n".join(query["sql"] for query in many.captured_queries)


def test_the_schema_documents_the_list(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    operation = schema["paths"][URL]["get"]
    assert set(schema["paths"][URL]) == {"get"}
    assert {"page", "page_size", "pattern", "connector"} <= {p["name"] for p in operation["parameters"]}
    assert {"401", "403", "404"} <= set(operation["responses"])
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    row = schema["components"]["schemas"][page]["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][row]["properties"]
    assert {"engine_route", "status", "policy_coverage", "wrapper", "reasons"} <= set(fields)
