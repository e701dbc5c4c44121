"""The coverage rules of workbench/selectors/coverage.py, one case per rule."""

import pytest

from registries.models import EngineRoute
from tests.workbench.exchange_kit import connector_row, publish_version
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.exchange import EXPORTS
from workbench.models import WorkbenchDraft
from workbench.selectors.coverage import route_coverage

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


@pytest.mark.parametrize(
    "make, status, percent",
    [
        (no_connector, "MISSING", 0),
        (connector_without_version_or_draft, "MISSING", 0),
        (connector_with_only_an_abandoned_draft, "MISSING", 0),
        (connector_with_an_open_draft, "PARTIAL", 66),  # 2 of 3 decided, rounded down
        (published_from_a_draft, "DONE", 100),  # no binding on read_public = NONE decided at publish
        (published_elsewhere_all_bound, "DONE", 100),
        (published_elsewhere_partly_bound, "PARTIAL", 33),
        (published_without_scopes, "PARTIAL", 0),
        (published_with_a_draft_of_a_newer_version, "DONE", 100),  # live wins over drafts
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_each_rule(make, status, percent):
    EngineRoute.objects.create(pattern="/route/*", connector=make())

    [row] = route_coverage()

    assert (row.status, row.percent) == (status, percent)
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
def test_a_declared_entitlement_is_a_missing_dependency_beside_the_row(where):
    if where == "published":
        connector = publish_version("stripe", "1.0.0", ["charge"], entitlements=["billing.seats"])
    else:
        entitlements = {"entitlements": ["billing.seats"]}
        draft = _draft("stripe", ["charge"], {"charge": None}, portability=entitlements)
        connector = connector_row("stripe", owner=draft.tenant)
    EngineRoute.objects.create(pattern="/payments/*", connector=connector)

    [row] = route_coverage()

    assert row.missing_dependencies == ("missing dependency: entitlement store (declares billing.seats)",)
    assert len(b"".join(EXPORTS["coverage"]().stream()).decode().splitlines()[1].split("\t")) == 3


def test_coverage_reads_a_fixed_number_of_queries_per_chunk(django_assert_num_queries):
    for index in range(30):
        connector = (
            publish_version(f"conn-{index:02d}", "1.0.0", ["a", "b"], bindings={"a": "firearm.x"})
            if index % 3 == 0
            else connector_row(f"conn-{index:02d}", "C")
        )
        if index % 3 == 1:
            _draft(f"conn-{index:02d}", ["a"], {}, tenant=connector.owner)
        EngineRoute.objects.create(pattern=f"/route-{index:02d}/*", connector=connector)

    with django_assert_num_queries(2):  # the routes, then the open drafts of the chunk's unpublished ones
        rows = list(route_coverage())

    assert [row.status for row in rows[:3]] == ["DONE", "PARTIAL", "MISSING"]
