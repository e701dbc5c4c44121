"""What coverage reads: of an open draft only how many scopes it names, how many of them are decided and
the entitlements it declares (read in SQL, on SQLite and PostgreSQL the same as the whole document read
in Python), so memory does not grow with the drafts' size; and `export_tsv coverage` reads coverage
once, its stderr notes gathered while the file streams."""

import io
import re
import tracemalloc

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registries.models import ComponentSpec, EngineRoute
from tests.workbench.exchange_kit import connector_row, publish_version
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.contract import declared_entitlements
from workbench.management.commands import export_tsv
from workbench.selectors.coverage import (
    declared_entitlements_of_specs,
    open_drafts_by_connector,
    spec_entitlements,
)

pytestmark = pytest.mark.django_db

ODD_SPECS = [
    {"scopes": [{"name": "a"}, {"name": "b", "tools": ["x"]}, {"name": "a"}]},
    {"scopes": ["a", 3, None, [{"name": "n"}], {"name": 3}, {"name": None}, {"x": "a"}, {"name": "ok"}]},
    {"scopes": [{"name": 'quote " back \\ slash'}, {"name": "é ü ß ✓"}, {"name": ""}, {"name": "a.b"},
                {"name": "back\\slash"}, {"name": "tab\tname"}, {"name": "[0]"}, {"name": "$"}]},
    {"scopes": {"name": "not a list"}},
    {"scopes": "a"},
    {"scopes": None},
    {"scopes": []},
    {},
    [],
    "a draft that is only a string",
]
ODD_POLICIES = [
    {"firearms": {"a": None, "b": "firearm.x", "gone": "firearm.y"}, "kpis": {}},
    {"firearms": {"ok": None, 'quote " back \\ slash': "f", "é ü ß ✓": None, "": None, "back\\slash": None,
                  "tab\tname": None, "[0]": None}},
    {"firearms": ["a", "b"]},
    {"firearms": "a"},
    {"firearms": None},
    {},
    [],
]
ODD_DECLARATIONS = [
    {"portability": {"entitlements": ["billing.seats", "billing.usage", "billing.seats"]}},
    {"portability": {"entitlements": "billing.single"}},
    {"portability": {"entitlements": ["123", 123, True, "true", '["a"]', None, 1.5]}},
    {"portability": {"entitlements": '["a", "b"]'}, "metadata": {"entitlements": "null"}},
    {"portability": {"entitlements": []}, "metadata": {"entitlements": ["billing.meta", "billing.seats"]}},
    {"portability": {"entitlements": None}, "metadata": {"entitlements": {"billing": "object"}}},
    {"portability": ["entitlements"], "metadata": "entitlements"},
    {"portability": {"entitlements": ""}, "metadata": {"entitlements": 0}},
    {"portability": {"entitlements": True}, "metadata": {"entitlements": False}},
    {"portability": {"entitlements": 1.5}, "metadata": {"entitlements": -2}},
    {"portability": {}},
]


def _names(spec):
    """The scope names as coverage read them when it decoded the whole draft."""
    scopes = spec.get("scopes") if isinstance(spec, dict) else None
    names = []
    for scope in scopes if isinstance(scopes, list) else []:
        name = scope.get("name") if isinstance(scope, dict) else None
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)


def _whole_document_reading(spec, policy):
    names = _names(spec)
    firearms = policy.get("firearms") if isinstance(policy, dict) else None
    firearms = firearms if isinstance(firearms, dict) else {}
    entitlements = declared_entitlements(spec) if isinstance(spec, dict) else []
    return len(names), sum(1 for name in names if name in firearms), tuple(dict.fromkeys(entitlements))


def _cases():
    for index, spec in enumerate(ODD_SPECS):
        yield spec, ODD_POLICIES[index % len(ODD_POLICIES)]
    for index, policy in enumerate(ODD_POLICIES):
        yield ODD_SPECS[index], policy
    for index, declaration in enumerate(ODD_DECLARATIONS):
        yield {**ODD_SPECS[index % 3], **declaration}, ODD_POLICIES[index % 2]


def test_a_draft_read_in_sql_gives_what_the_whole_document_gave():
    expected = {}
    for index, (spec, policy) in enumerate(_cases()):
        connector_id = f"odd-{index:02d}"
        draft = WorkbenchDraftFactory(connector_id=connector_id, spec_snapshot=spec, policy_snapshot=policy)
        expected[connector_id] = (draft.pk, *_whole_document_reading(spec, policy))

    found = open_drafts_by_connector(list(expected))

    assert {key: tuple(value) for key, value in found.items()} == expected


def test_a_published_versions_entitlements_read_in_sql_are_what_its_metadata_gives():
    expected = {}
    odd = [{"spec_class": "mcp_connector", **declaration} for declaration in ODD_DECLARATIONS]
    for index, metadata in enumerate([*odd, {"entitlements": ["x"]}, [], "metadata", 3]):
        spec = ComponentSpec.objects.create(
            spec_id=f"odd-{index:02d}", version="1.0.0", kind="component", metadata=metadata
        )
        expected[spec.pk] = spec_entitlements(metadata)

    assert declared_entitlements_of_specs(list(expected)) == expected


def _bulky_spec(connector_id, tools):
    description = "A long description of what the tool does and when to call it. " * 40
    return draft_spec(
        connector_id,
        "0.1.0",
        tools=[{**draft_tool(f"tool_{index:03d}"), "description": description} for index in range(tools)],
        scopes=[{"name": f"scope_{index:03d}", "tools": [f"tool_{index:03d}"]} for index in range(tools)],
        portability={"entitlements": ["billing.seats"]},
    )


def _drafted_routes(count, tools):
    for index in range(count):
        connector_id = f"drafted-{index:03d}"
        spec = _bulky_spec(connector_id, tools)
        draft = WorkbenchDraftFactory(connector_id=connector_id, spec_snapshot=spec)
        connector = connector_row(connector_id, owner=draft.tenant)
        EngineRoute.objects.create(pattern=f"/drafted-{index:03d}/*", connector=connector)


def _drafts_query(captured):
    [sql] = [query["sql"] for query in captured
             if query["sql"].startswith('SELECT "workbench_workbenchdraft"."connector_id"')]
    return sql


def test_the_drafts_documents_stay_in_the_database():
    _drafted_routes(3, tools=4)

    with CaptureQueriesContext(connection) as captured:
        call_command("export_tsv", "coverage", stdout=io.StringIO(), stderr=io.StringIO())

    selected = _drafts_query(captured.captured_queries).split(' FROM "workbench_workbenchdraft"')[0]
    for column in ("spec_snapshot", "policy_snapshot"):
        assert column in selected  # read, but only inside the expressions that pick its parts
        whole = rf'(SELECT|,)\s*"workbench_workbenchdraft"\."{column}"\s*(,|$)'
        assert not re.search(whole, selected), selected


def _peak_of_the_command():
    tracemalloc.start()
    try:
        call_command("export_tsv", "coverage", stdout=io.StringIO(), stderr=io.StringIO())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_commands_memory_does_not_grow_with_the_drafts_size():
    # 40 drafts of 8 tools (about 20 KB each), then the same 40 drafts at 200 tools (about 500 KB each):
    # 20 MB of drafts that were decoded at once when coverage read them whole.
    _drafted_routes(40, tools=8)
    small = _peak_of_the_command()
    for draft in WorkbenchDraftFactory._meta.model.objects.all():
        draft.spec_snapshot = _bulky_spec(draft.connector_id, 200)
        draft.save(update_fields=["spec_snapshot"])
    large = _peak_of_the_command()

    assert large < 1.5 * small + 256 * 1024, (small, large)


def test_the_command_reads_coverage_once_and_notes_what_is_missing_after_the_file(django_assert_num_queries):
    for index in range(6):
        entitlements = [f"billing.{index}", "billing.line\nbreak"]
        connector = publish_version(f"paid-{index}", "1.0.0", ["a"], entitlements=entitlements)
        EngineRoute.objects.create(pattern=f"/paid-{index}/*", connector=connector)
    _drafted_routes(2, tools=1)
    out, err = io.StringIO(), io.StringIO()

    # The routes, the open drafts of the unpublished connectors, the published versions' entitlements.
    with django_assert_num_queries(3):
        call_command("export_tsv", "coverage", stdout=out, stderr=err)

    assert len(out.getvalue().splitlines()) == 1 + 8
    notes = [f"/drafted-{index:03d}/*: missing dependency: entitlement store (declares billing.seats)"
             for index in range(2)]
    for index in range(6):
        notes.append(f"/paid-{index}/*: missing dependency: entitlement store (declares billing.{index})")
        notes.append(f"/paid-{index}/*: missing dependency: entitlement store (declares billing.line\nbreak)")
    assert err.getvalue() == "".join(f"{note}\n" for note in notes)


def test_notes_past_what_is_kept_in_memory_come_out_the_same(monkeypatch, tmp_path):
    for index in range(30):
        connector = publish_version(
            f"paid-{index:02d}", "1.0.0", ["a"], entitlements=["billing.seats", "billing.usage"]
        )
        EngineRoute.objects.create(pattern=f"/paid-{index:02d}/*", connector=connector)
    in_memory = io.StringIO()
    call_command("export_tsv", "coverage", stdout=io.StringIO(), stderr=in_memory)

    monkeypatch.setattr(export_tsv, "NOTES_IN_MEMORY", 100)
    spooled = io.StringIO()
    call_command("export_tsv", "coverage", "--output", str(tmp_path / "coverage.tsv"), stderr=spooled)

    assert len(in_memory.getvalue().splitlines()) == 60
    assert spooled.getvalue() == in_memory.getvalue() + f"Wrote {tmp_path / 'coverage.tsv'}.\n"
