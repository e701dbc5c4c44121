"""The admin index dashboard: what it shows, to whom, offline, in a bounded number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    assert re.search(r'/chat/\*.*?PARTIAL.*?<progress class="wb-bar" max="100" value="50".*?50% .*?\(1/2\)',
                     coverage, re.S)
    done = r'/search/\*.*?DONE.*?<progress class="wb-bar wb-done" max="100" value="100"'
    assert re.search(done, coverage, re.S)
    # Nothing wraps the route: no bar, and not "0% (0/0)".
    assert re.search(r"/voice/\*.*?none.*?MISSING.*?no wrapper", coverage, re.S)
    # Seed 000, gap 2: a declared billing entitlement is a missing dependency, so never DONE.
    assert re.search(
        r'/payments/\*.*?PARTIAL.*?value="100".*?'
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


def coverage_row(html, route):
    """The coverage table's row of `route`."""
    rows = re.findall(r"<tr>(.*?)</tr>", section(html, "coverage"), re.S)
    return next(row for row in rows if f"<td>{route}</td>" in row)


def test_coverage_bars_are_real_bars_with_the_percentage_beside_them(client, admin_user):
    golden_registry()
    logged_in(client, admin_user)
    html = dashboard_html(client)
    chat = coverage_row(html, "/chat/*")
    bar = re.search(r'<progress class="wb-bar" max="100" value="(\d+)" aria-label="([^"]+)">', chat)
    assert bar and bar.groups() == ("50", "policy coverage of /chat/*")
    assert 'class="wb-percent">50%' in chat and "PARTIAL 50% (1/2)" in squash(chat)
    # Nothing wraps /voice/*: "no wrapper", no bar, no "0% (0/0)".
    voice = coverage_row(html, "/voice/*")
    assert "no wrapper" in voice and "<progress" not in voice and "0%" not in voice


def test_the_dashboard_has_no_inline_style_or_script_and_links_its_stylesheet(client, admin_user):
    golden_registry()
    logged_in(client, admin_user)
    html = client.get("/admin/").content.decode()
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert re.search(r'<link rel="stylesheet" href="/static/workbench/dashboard\.css"', html)


def test_the_stylesheet_writes_down_the_contrast_of_its_bar_colours():
    """The comment of dashboard.css states each ratio; recompute them from the colours it declares."""
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "workbench/static/workbench/dashboard.css").read_text()

    def luminance(colour):
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def ratio(a, b):
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    light = dict(re.findall(r"--wb-([a-z-]+): (#[0-9a-f]{6})", css.split("@media")[0]))
    dark = dict(re.findall(r"--wb-([a-z-]+): (#[0-9a-f]{6})", css.split("@media")[1].split("}")[0]))
    for theme, panel in ((light, "#ffffff"), (dark, "#121212")):
        for fill in ("done", "partial"):
            # WCAG 2.1 SC 1.4.11: 3:1 for a graphical object against its neighbours
            assert ratio(theme[fill], theme["track"]) >= 3 and ratio(theme[fill], panel) >= 3
            assert f"{ratio(theme[fill], theme['track']):.2f}:1 against the track" in css
        assert ratio(theme["track-border"], panel) >= 3


QUICK = ("Start a draft", "Import from an MCP server", "Import a TSV")


def quick_links(client, user):
    links = section(dashboard_html(logged_in(client, user)), "quick-links")
    return [label for label in QUICK if links and f">{label}</a>" in links]


def test_quick_links_are_shown_to_who_may_use_them(client):
    acme = TenantFactory(slug="acme")
    draft_perms = ["workbench.add_workbenchdraft", "workbench.view_workbenchdraft"]
    editor = UserFactory(is_staff=True, perms=[*draft_perms, "registries.view_scope"])
    MembershipFactory(tenant=acme, user=editor, role="editor")
    assert quick_links(client, editor) == list(QUICK)
    html = dashboard_html(client)
    for name in ("workbench_workbenchdraft_add", "workbench_workbenchdraft_import_mcp",
                 "workbench_tsvexchange_import"):
        assert f'href="{reverse(f"admin:{name}")}"' in html
    # No sheet to import without the view permission of what it edits: the drafts only.
    drafter = UserFactory(is_staff=True, perms=draft_perms)
    MembershipFactory(tenant=acme, user=drafter, role="editor")
    assert quick_links(client, drafter) == ["Start a draft", "Import from an MCP server"]
    # A viewer writes no drafts; without the add permission nobody does.
    viewer = UserFactory(is_staff=True, perms=[*draft_perms, "registries.view_scope"])
    MembershipFactory(tenant=acme, user=viewer, role="viewer")
    assert quick_links(client, viewer) == []
    reader = UserFactory(is_staff=True, perms=["workbench.view_workbenchdraft", "registries.view_scope"])
    MembershipFactory(tenant=acme, user=reader, role="editor")
    assert quick_links(client, reader) == []
