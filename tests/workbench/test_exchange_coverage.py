"""The coverage rules of workbench/selectors/coverage.py, one case per rule, with the reasons beside each
row; the report as pages and as each user may see it."""

import io

import pytest
from django.core.management import call_command

from registries.models import EngineRoute, RoutingConfig
from tests.workbench.environments_kit import load
from tests.workbench.exchange_kit import connector_row, publish_version
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
)
from workbench.exchange import EXPORTS
from workbench.models import WorkbenchDraft
from workbench.selectors.coverage import CoverageReport, route_coverage, seen_by, unserved_entitlements

pytestmark = pytest.mark.django_db


def _draft(connector_id, scopes, firearms, tenant=None, **extra):
    """An open draft, in `tenant` (a new one unless told)."""
    spec = draft_spec(
        connector_id,
        "0.1.0",
        tools=[draft_tool("t")],
        scopes=[{"name": name, "tools": []} for name in scopes],
        **extra,
    )
    return WorkbenchDraftFactory(
        connector_id=connector_id, spec_snapshot=spec, policy_snapshot={"firearms": firearms, "kpis": {}},
        **({"tenant": tenant} if tenant is not None else {}),
    )


def no_connector():
    return None


def connector_without_version_or_draft():
    return connector_row("idle", "Idle")


def connector_with_an_open_draft():
    draft = _draft("video-gen", ["a", "b", "c"], {"a": None, "b": "firearm.x"})
    return connector_row("video-gen", "Video", owner=draft.tenant)


def connector_with_only_an_abandoned_draft():
    draft = _draft("video-gen", ["a"], {"a": None})
    WorkbenchDraft.objects.filter(pk=draft.pk).update(status=WorkbenchDraft.Status.ABANDONED)
    return connector_row("video-gen", "Video", owner=draft.tenant)


def published_from_a_draft():
    return publish_version(
        "github", "1.2.0", ["admin_write", "read_public"], bindings={"admin_write": "firearm.external_write"}
    )


def published_elsewhere_all_bound():
    return publish_version("slack", "1.0.0", ["post"], via_draft=False, bindings={"post": "firearm.send"})


def published_elsewhere_partly_bound():
    return publish_version("slack", "1.0.0", ["a", "b", "c"], via_draft=False, bindings={"a": "firearm.send"})


def published_without_scopes():
    return publish_version("empty", "1.0.0", [])


def published_with_a_draft_of_a_newer_version():
    connector = publish_version("github", "1.2.0", ["admin_write"], bindings={"admin_write": "firearm.x"})
    _draft("github", ["admin_write", "new_scope"], {}, tenant=connector.owner)
    return connector


def published_with_a_billing_entitlement():
    return publish_version(
        "stripe", "1.0.0", ["charge"], entitlements=["billing.seats"], bindings={"charge": "firearm.money"}
    )


def published_elsewhere_with_an_entitlement_in_portability():
    return publish_version(
        "stripe", "1.0.0", ["charge"], via_draft=False, bindings={"charge": "firearm.money"},
        portability={"entitlements": ["billing.seats"]},
    )


def draft_with_a_billing_entitlement():
    draft = _draft("stripe", ["charge"], {"charge": None}, portability={"entitlements": ["billing.seats"]})
    return connector_row("stripe", owner=draft.tenant)


ENTITLEMENT = ("missing_dependency", "missing dependency: entitlement store (declares billing.seats)")


@pytest.mark.parametrize(
    "make, status, percent, reasons",
    [
        (no_connector, "MISSING", 0, [("no_connector", "no connector wraps the route")]),
        (
            connector_without_version_or_draft, "MISSING", 0,
            [("no_wrapper", "idle has no published version and no open draft")],
        ),
        (
            connector_with_only_an_abandoned_draft, "MISSING", 0,
            [("no_wrapper", "video-gen has no published version and no open draft")],
        ),
        (  # 2 of 3 decided, rounded down
            connector_with_an_open_draft, "PARTIAL", 66,
            [
                ("draft_only", "only an open draft wraps the route: nothing is published"),
                ("undecided_scopes", "1 of 3 scopes have no firearm decision"),
            ],
        ),
        (published_from_a_draft, "DONE", 100, []),  # no binding on read_public = NONE decided at publish
        (published_elsewhere_all_bound, "DONE", 100, []),
        (
            published_elsewhere_partly_bound, "PARTIAL", 33,
            [("undecided_scopes", "2 of 3 scopes have no firearm decision")],
        ),
        (published_without_scopes, "PARTIAL", 0, [("no_scopes", "the published version has no scopes")]),
        (published_with_a_draft_of_a_newer_version, "DONE", 100, []),  # live wins over drafts
        # Seed 000, gap 2: billing is a missing dependency, strictly: never DONE, whatever the coverage.
        (published_with_a_billing_entitlement, "PARTIAL", 100, [ENTITLEMENT]),
        (published_elsewhere_with_an_entitlement_in_portability, "PARTIAL", 100, [ENTITLEMENT]),
        (
            draft_with_a_billing_entitlement, "PARTIAL", 100,
            [("draft_only", "only an open draft wraps the route: nothing is published"), ENTITLEMENT],
        ),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_each_rule(make, status, percent, reasons):
    EngineRoute.objects.create(pattern="/route/*", connector=make())

    [row] = route_coverage()

    assert (row.status, row.percent) == (status, percent)
    assert [(reason.code, reason.message) for reason in row.reasons] == reasons
    exported = b"".join(EXPORTS["coverage"]().stream()).decode().splitlines()
    assert exported[1] == f"/route/*\t{status}\t{percent}%"


def test_the_latest_open_draft_counts():
    older = _draft("video-gen", ["a", "b"], {"a": None, "b": None})
    newer = _draft("video-gen", ["a", "b"], {"a": None}, tenant=older.tenant)
    connector = connector_row("video-gen", "Video", owner=older.tenant)
    WorkbenchDraft.objects.filter(pk=older.pk).update(revised_at=newer.revised_at.replace(year=2001))
    EngineRoute.objects.create(pattern="/video/*", connector=connector)

    [row] = route_coverage()

    assert (row.status, row.percent, row.wrapper) == ("PARTIAL", 50, newer.pk)


@pytest.mark.parametrize("where", ["published", "draft"])
def test_each_declared_entitlement_is_its_own_reason_beside_an_unchanged_tsv_row(where):
    entitlements = ["billing.seats", "billing.usage"]
    if where == "published":
        connector = publish_version("stripe", "1.0.0", ["charge"], entitlements=entitlements)
    else:
        draft = _draft("stripe", ["charge"], {"charge": None}, portability={"entitlements": entitlements})
        connector = connector_row("stripe", owner=draft.tenant)
    EngineRoute.objects.create(pattern="/payments/*", connector=connector)

    [row] = route_coverage()

    assert row.status == "PARTIAL"
    assert [(reason.message, reason.entitlement) for reason in row.missing_dependencies] == [
        ("missing dependency: entitlement store (declares billing.seats)", "billing.seats"),
        ("missing dependency: entitlement store (declares billing.usage)", "billing.usage"),
    ]
    lines = b"".join(EXPORTS["coverage"]().stream()).decode().splitlines()
    assert lines == ["engine_route\tmcp_wrapper_status\tpolicy_coverage", "/payments/*\tPARTIAL\t100%"]


def test_no_entitlement_store_serves_anything():
    # The product has no entitlement store (PRODUCT.md section 8), and a routing row does not make one.
    RoutingConfig.objects.create(resource_kind="entitlement_store", backend_type="TabularStore")

    assert unserved_entitlements(["billing.seats", "anything"]) == ["billing.seats", "anything"]
    connector = publish_version("stripe", "1.0.0", ["charge"], entitlements=["billing.seats"])
    EngineRoute.objects.create(pattern="/payments/*", connector=connector)
    assert next(route_coverage()).status == "PARTIAL"


def test_coverage_reads_a_fixed_number_of_queries_per_chunk(django_assert_num_queries):
    for index in range(30):
        connector = (
            publish_version(
                f"conn-{index:02d}", "1.0.0", ["a", "b"], bindings={"a": "firearm.x"},
                entitlements=["billing.x"] if index % 2 else None,
            )
            if index % 3 == 0
            else connector_row(f"conn-{index:02d}", "C")
        )
        if index % 3 == 1:
            _draft(f"conn-{index:02d}", ["a"], {}, tenant=connector.owner)
        EngineRoute.objects.create(pattern=f"/route-{index:02d}/*", connector=connector)

    # The routes, then for the chunk: the open drafts of its unpublished connectors, the entitlements of
    # the specs that declare some.
    with django_assert_num_queries(3):
        rows = list(route_coverage())

    assert [row.status for row in rows[:4]] == ["DONE", "PARTIAL", "MISSING", "PARTIAL"]
    assert [len(row.missing_dependencies) for row in rows[:4]] == [0, 0, 0, 1]


def _mixed_routes(count, tenant):
    for index in range(count):
        if index % 2:
            connector = connector_row(f"drafted-{index:02d}", "D", owner=tenant)
            _draft(f"drafted-{index:02d}", ["a"], {"a": None}, tenant=tenant)
        else:
            connector = publish_version(f"live-{index:02d}", "1.0.0", ["a"], entitlements=["billing.x"])
        EngineRoute.objects.create(pattern=f"/route-{index:02d}/*", connector=connector)


def test_the_report_pages_by_slices_in_a_fixed_number_of_queries(django_assert_num_queries):
    tenant = TenantFactory()
    _mixed_routes(12, tenant)
    member = UserFactory()
    MembershipFactory(tenant=tenant, user=member)
    report = CoverageReport(member)

    with django_assert_num_queries(1):
        assert report.count() == 12
    # routes, open drafts, entitlements, then which drafts the user may read (an auditor permission check
    # and the drafts of the user's tenants)
    with django_assert_num_queries(5):
        page = report[4:8]

    assert [row.engine_route for row in page] == [f"/route-{index:02d}/*" for index in range(4, 8)]
    assert page == list(route_coverage())[4:8]
    assert report[11].engine_route == "/route-11/*"
    with pytest.raises(IndexError):
        report[12]


DRAFT_ONLY = ("draft_only", "only an open draft wraps the route: nothing is published", "")


@pytest.mark.parametrize(
    "entitlements, generic_reasons",
    [
        ([], [DRAFT_ONLY]),
        (
            ["billing.acme_secret", "billing.acme_other"],
            [DRAFT_ONLY],
        ),
    ],
)
def test_another_tenants_draft_counts_but_shows_nothing_of_its_own(entitlements, generic_reasons):
    # PRODUCT.md section 4: members of other tenants never see a draft. What stays is what coverage.tsv
    # gives every reader (status, percent: PRODUCT.md section 6 fixes those columns).
    tenant = TenantFactory()
    draft = _draft(
        "zoom", ["a", "b", "c"], {"a": None, "b": "firearm.x"}, tenant=tenant,
        portability={"entitlements": entitlements},
    )
    EngineRoute.objects.create(pattern="/zoom/*", connector=connector_row("zoom", owner=tenant))
    member, outsider = UserFactory(), UserFactory()
    MembershipFactory(tenant=tenant, user=member)
    MembershipFactory(tenant=TenantFactory(), user=outsider, role="owner")

    [mine] = seen_by(member, route_coverage())
    [hidden] = seen_by(outsider, route_coverage())

    assert (mine.wrapper, mine.decided, mine.scopes) == (draft.pk, 2, 3)
    assert [reason.entitlement for reason in mine.missing_dependencies] == entitlements
    assert (hidden.status, hidden.percent) == (mine.status, mine.percent) == ("PARTIAL", 66)
    assert (hidden.connector_id, hidden.wrapper_kind, hidden.wrapper) == ("zoom", "draft", "draft")
    assert (hidden.decided, hidden.scopes) == (None, None)
    assert [tuple(reason) for reason in hidden.reasons] == generic_reasons
    assert draft.pk not in repr(hidden) and "acme" not in repr(hidden)


def test_the_seeded_payments_route_is_partial_for_its_billing_entitlement():
    """The real seeds: stripe declares billing.stripe_connect and decides every scope, yet its route is
    PARTIAL in the file and the command names what is missing beside it."""
    load("dev")
    err = io.StringIO()
    out = io.StringIO()
    call_command("export_tsv", "coverage", stdout=out, stderr=err)

    [payments] = [row for row in route_coverage() if row.engine_route == "/payments/*"]

    assert (payments.status, payments.percent, payments.connector_id) == ("PARTIAL", 100, "stripe")
    assert [reason.entitlement for reason in payments.reasons] == ["billing.stripe_connect"]
    assert "/payments/*\tPARTIAL\t100%" in out.getvalue().splitlines()
    assert (
        "/payments/*: missing dependency: entitlement store (declares billing.stripe_connect)"
        in err.getvalue()
    )
