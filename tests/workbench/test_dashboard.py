"""The admin index dashboard: what it shows, to whom, offline, in a bounded number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registries.models import EngineRoute
from tests.admin_helpers import logged_in, staff
from tests.policies.factories import FirearmFactory, FirearmGrantFactory
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
from workbench.selectors.coverage import COVERAGE_PERMISSIONS

pytestmark = pytest.mark.django_db


def dashboard_html(client):
    html = client.get("/admin/").content.decode()
    start = html.index('id="workbench-dashboard"')
    return html[start : html.index('id="content-main"')]


def section(html, name):
    match = re.search(rf'<section class="wb-panel[^"]*" id="wb-{name}">(.*?)</section>', html, re.S)
    return match.group(1) if match else None


def squash(text):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


@pytest.fixture
def admin_user():
    user = SuperuserFactory()
    MembershipFactory(tenant=TenantFactory(slug="acme"), user=user)
    return user


def test_the_index_shows_the_state_of_the_registries_at_a_glance(client, admin_user):
    golden_registry()
    tenant = admin_user.memberships.get().tenant
    # Grants are tenant rows: these are given within the user's tenant.
    FirearmGrantFactory.create_batch(
        2, firearm=FirearmFactory(firearm_id="firearm.external_write"), tenant=tenant
    )
    WorkbenchDraftFactory(tenant=tenant, owner=admin_user, stage="policy")
    logged_in(client, admin_user)

    html = dashboard_html(client)

    counts = squash(section(html, "counts"))
    assert "4 published connectors" in counts and "6 engine routes" in counts
    assert "3 strategy locks 1 engaged" in counts and "2 active grants" in counts
    # Open drafts of the user's tenants only (the golden registry's draft is in another tenant).
    assert squash(section(html, "drafts")).startswith("Open drafts by stage 0 definition 0 scoping 1 policy")
    coverage = section(html, "coverage")
    assert re.search(r"/chat/\*.*?PARTIAL.*?width: 50%.*?50% \(1/2\)", coverage, re.S)
    assert re.search(r"/search/\*.*?DONE.*?width: 100%", coverage, re.S)
    assert re.search(r"/voice/\*.*?none.*?MISSING.*?width: 0%", coverage, re.S)
    # Seed 000, gap 2: a declared billing entitlement is a missing dependency, so never DONE.
    assert re.search(
        r"/payments/\*.*?PARTIAL.*?width: 100%.*?"
        r"missing dependency: entitlement store \(declares billing.seats\)",
        coverage,
        re.S,
    )
    publishes = squash(section(html, "publishes"))
    assert "git-lab 0.3.1 — 2026-03-01 00:00" in publishes
    assert squash(section(html, "firearms")).endswith("firearm.external_write high 2")
    assert "stripe 1.0.0: missing dependency: entitlement store (declares billing.seats)" in squash(
        section(html, "dependencies")
    )


def test_sections_follow_the_users_view_permissions(client):
    logged_in(client, staff(["policies.view_firearm"]))
    FirearmGrantFactory(firearm=FirearmFactory(firearm_id="firearm.external_write"))

    html = dashboard_html(client)

    assert "firearms" in squash(section(html, "counts"))
    assert "firearm.external_write" in section(html, "firearms")
    for hidden in ("drafts", "coverage", "publishes", "dependencies"):
        assert section(html, hidden) is None, hidden
    assert "engine routes" not in html


def test_the_admin_loads_no_script_or_style_from_outside_the_project(client, admin_user):
    golden_registry()
    logged_in(client, admin_user)
    html = client.get("/admin/").content.decode()
    sources = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    assert "@import" not in html and "url(http" not in html


def test_the_dashboard_costs_the_same_queries_with_many_rows(client, admin_user):
    golden_registry()
    logged_in(client, admin_user)
    client.get("/admin/")  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/").status_code == 200

    tenant = admin_user.memberships.get().tenant
    for index in range(25):
        connector = publish_version(
            f"more-{index:02d}",
            "1.0.0",
            ["a", "b"],
            entitlements=["billing.x"],
            bindings={"a": "firearm.external_write"},
        )
        EngineRoute.objects.create(pattern=f"/more-{index:02d}/*", connector=connector)
        draft_connector = connector_row(f"drafted-{index:02d}", "D", owner=tenant)
        EngineRoute.objects.create(pattern=f"/drafted-{index:02d}/*", connector=draft_connector)
        WorkbenchDraftFactory(connector_id=f"drafted-{index:02d}", tenant=tenant, owner=admin_user)
        FirearmGrantFactory(firearm=FirearmFactory(firearm_id=f"firearm.more_{index:02d}"))

    with CaptureQueriesContext(connection) as many:
        assert client.get("/admin/").status_code == 200

    assert len(many) == len(few) <= 30, "\n".join(query["sql"] for query in many.captured_queries)


def test_a_draft_of_another_tenant_counts_but_is_not_named(client):
    connector = connector_row("secretco", "Secret", owner=TenantFactory(slug="theirs"))
    EngineRoute.objects.create(pattern="/secret/*", connector=connector)
    theirs = WorkbenchDraftFactory(connector_id="secretco", tenant=TenantFactory(slug="theirs"))
    outsider = SuperuserFactory()
    MembershipFactory(user=outsider, tenant=TenantFactory(slug="ours"))
    client.force_login(outsider)
    coverage = squash(section(dashboard_html(client), "coverage"))
    assert "/secret/* secretco draft PARTIAL" in coverage
    assert theirs.pk not in coverage
    client.force_login(theirs.owner)
    theirs.owner.is_staff = theirs.owner.is_superuser = True
    theirs.owner.save()
    assert theirs.pk in squash(section(dashboard_html(client), "coverage"))


def test_another_tenants_draft_shows_neither_its_counts_nor_its_entitlements(client):
    draft, insider, outsider = acme_draft_route()

    mine = squash(section(dashboard_html(logged_in(client, insider)), "coverage"))
    assert f"/zoom/* zoom {draft.pk} PARTIAL 66% (2/3)" in mine and ACME_SECRET in mine

    html = logged_in(client, outsider).get("/admin/").content.decode()
    theirs = squash(section(dashboard_html(client), "coverage"))
    assert (
        "/zoom/* zoom draft PARTIAL 66% only an open draft wraps the route: nothing is published "
        "Coverage report" in theirs
    )
    assert ACME_SECRET not in html and draft.pk not in html


def test_coverage_needs_the_permissions_of_the_coverage_report(client):
    # The API's coverage list and the admin's coverage page need every coverage permission; so does the
    # dashboard's coverage, reasons included: viewing engine routes alone shows just their count.
    stripe = publish_version("stripe", "1.0.0", ["charge"], entitlements=["billing.seats"])
    EngineRoute.objects.create(pattern="/payments/*", connector=stripe)
    for held in COVERAGE_PERMISSIONS:
        html = dashboard_html(logged_in(client, staff([held])))
        assert section(html, "coverage") is None and "billing.seats" not in html, held

    html = dashboard_html(logged_in(client, staff(COVERAGE_PERMISSIONS)))
    assert "/payments/* stripe 1.0.0 PARTIAL" in squash(section(html, "coverage"))
    assert "declares billing.seats" in section(html, "coverage")


def test_grants_are_counted_for_the_users_tenants_or_every_tenant_for_an_auditor(client):
    firearm = FirearmFactory(firearm_id="firearm.external_write")
    FirearmGrantFactory.create_batch(3, firearm=firearm, tenant=TenantFactory(slug="theirs"))
    ours = TenantFactory(slug="ours")
    FirearmGrantFactory(firearm=firearm, tenant=ours)
    perms = ["policies.view_firearmgrant", "policies.view_firearm"]
    member = UserFactory(perms=perms, is_staff=True)
    MembershipFactory(tenant=ours, user=member)

    for user, count in ((member, 1), (staff(perms), 4), (SuperuserFactory(), 0)):
        html = dashboard_html(logged_in(client, user))
        assert f"{count} active grants" in squash(section(html, "counts")), user
        firearms = squash(section(html, "firearms"))
        if count:
            assert firearms.endswith(f"firearm.external_write high {count}"), user
        else:
            assert "firearm.external_write" not in firearms, user
