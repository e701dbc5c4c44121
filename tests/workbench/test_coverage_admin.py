"""The admin's coverage report page (Workbench › TSV exchange › Coverage report): every engine route with
its status, policy coverage, wrapper and reasons, linked from the dashboard and the TSV exchange page,
read-only, paginated, for those who hold the coverage sheet's permissions, in a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registries.models import EngineRoute
from tests.admin_helpers import logged_in, staff
from tests.workbench.exchange_kit import (
    ACME_SECRET,
    acme_draft_route,
    connector_row,
    golden_registry,
    publish_version,
)
from tests.workbench.factories import (
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    WorkbenchDraftFactory,
)
from workbench.admin.coverage import ROUTES_PER_PAGE
from workbench.selectors.coverage import COVERAGE_PERMISSIONS

pytestmark = pytest.mark.django_db

PAGE = "/admin/workbench/tsvexchange/coverage/"


def rows(response):
    html = response.content.decode()
    body = html[html.index('id="coverage-report"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_every_route_with_its_status_coverage_wrapper_and_reasons(client):
    golden_registry()
    # Staff of no tenant: the permissions, but no draft to read.
    logged_in(client, UserFactory(perms=list(COVERAGE_PERMISSIONS), is_staff=True))

    response = client.get(PAGE)

    assert response.status_code == 200
    assert rows(response) == [
        "/chat/* slack published 2.0.0 PARTIAL 50% (1/2 scopes decided) "
        "1 of 2 scopes have no firearm decision",
        "/mail/* mail - MISSING 0% (0/0 scopes decided) mail has no published version and no open draft",
        "/payments/* stripe published 1.0.0 PARTIAL 100% (3/3 scopes decided) "
        "missing dependency: entitlement store (declares billing.seats)",
        "/search/* github published 1.2.0 DONE 100% (2/2 scopes decided) -",
        # The video draft is another tenant's: it counts, but neither its id nor its counts are shown.
        "/video/* video-gen draft PARTIAL 66% only an open draft wraps the route: nothing is published",
        "/voice/* - - MISSING 0% (0/0 scopes decided) no connector wraps the route",
    ]
    assert 'href="/admin/workbench/tsvexchange/download/coverage/"' in response.content.decode()


def test_another_tenants_draft_shows_neither_its_id_nor_its_counts_nor_its_entitlements(client):
    draft, insider, outsider = acme_draft_route()

    mine = logged_in(client, insider).get(PAGE)
    assert rows(mine) == [
        f"/zoom/* zoom draft {draft.pk} PARTIAL 66% (2/3 scopes decided) "
        "only an open draft wraps the route: nothing is published 1 of 3 scopes have no firearm decision "
        f"missing dependency: entitlement store (declares {ACME_SECRET})"
    ]
    theirs = logged_in(client, outsider).get(PAGE)
    assert rows(theirs) == [
        "/zoom/* zoom draft PARTIAL 66% only an open draft wraps the route: nothing is published"
    ]
    assert ACME_SECRET not in theirs.content.decode() and draft.pk not in theirs.content.decode()


def test_linked_from_the_dashboard_and_the_exchange_page_for_those_who_may_read_it(client):
    logged_in(client, staff(COVERAGE_PERMISSIONS))
    assert f'href="{PAGE}"' in client.get("/admin/").content.decode()
    assert f'href="{PAGE}"' in client.get("/admin/workbench/tsvexchange/").content.decode()

    logged_in(client, staff(["registries.view_engineroute", "registries.view_connector"]))
    assert PAGE not in client.get("/admin/").content.decode()


@pytest.mark.parametrize("missing", COVERAGE_PERMISSIONS)
def test_it_needs_every_permission_of_the_coverage_sheet(client, missing):
    logged_in(client, staff([perm for perm in COVERAGE_PERMISSIONS if perm != missing]))
    assert client.get(PAGE).status_code == 403


def test_it_is_read_only(client):
    logged_in(client, SuperuserFactory())
    response = client.post(PAGE, {})
    assert response.status_code == 200 and not EngineRoute.objects.exists()
    assert "<form" not in response.content.decode().split('id="content"')[1]


def test_pages_and_refuses_a_page_number_that_is_not_ascii_digits(client):
    for index in range(ROUTES_PER_PAGE + 1):
        EngineRoute.objects.create(pattern=f"/route-{index:03d}/*")
    logged_in(client, staff(COVERAGE_PERMISSIONS))

    first, second = client.get(PAGE), client.get(PAGE, {"p": "2"})

    assert len(rows(first)) == ROUTES_PER_PAGE and "page 1 of 2" in first.content.decode()
    last = f"/route-{ROUTES_PER_PAGE:03d}/*"
    assert rows(second) == [f"{last} - - MISSING 0% (0/0 scopes decided) no connector wraps the route"]
    assert client.get(PAGE, {"p": "١"}).status_code == 400


def test_the_page_costs_the_same_queries_with_many_routes(client):
    user = SuperuserFactory()
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, user=user)
    logged_in(client, user)

    def add_routes(start, count):
        for index in range(start, start + count):
            live = publish_version(f"live-{index:02d}", "1.0.0", ["a"], entitlements=["billing.x"])
            EngineRoute.objects.create(pattern=f"/live-{index:02d}/*", connector=live)
            drafted = connector_row(f"drafted-{index:02d}", owner=tenant)
            WorkbenchDraftFactory(connector_id=f"drafted-{index:02d}", tenant=tenant)
            EngineRoute.objects.create(pattern=f"/drafted-{index:02d}/*", connector=drafted)

    add_routes(0, 2)
    client.get(PAGE)  # warm per-process caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(PAGE).status_code == 200
    add_routes(2, 20)
    with CaptureQueriesContext(connection) as many:
        assert len(rows(client.get(PAGE))) == 44

    assert len(many) == len(few), "\n".join(query["sql"] for query in many.captured_queries)
