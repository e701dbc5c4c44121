"""The structured diff (issue 14 item 4): a tool schema's properties added, removed and changed and how
(type, required, enum, nested), annotation hints, firearm and KPI decisions per scope; and the risk
flags of the publish confirmation (item 5)."""

import copy

import pytest
from django.utils import timezone

from tests.policies.factories import FirearmBindingFactory, FirearmFactory, FirearmGrantFactory
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.selectors.draft_diff import diff_states, publish_risk_flags

pytestmark = pytest.mark.django_db


def state(spec, firearms=None, kpis=None):
    return {"spec_snapshot": spec, "policy_snapshot": {"firearms": firearms or {}, "kpis": kpis or {}}}


def search_tool(**properties):
    schema = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for"},
            "limit": {"type": "string"},
            "order": {"type": "string", "enum": ["asc", "desc"]},
            "filter": {"type": "object", "properties": {"tag": {"type": "string"}}},
        },
        "required": ["query"],
    }
    schema["properties"].update(properties)
    return draft_tool("search_notes", read_only=True, inputSchema=schema)


def tool_details(before_tool, after_tool):
    before = draft_spec("notes", tools=[before_tool], scopes=[])
    after = draft_spec("notes", tools=[after_tool], scopes=[])
    (entry,) = diff_states(state(before), state(after))
    assert (entry["area"], entry["change"], entry["path"]) == ("tools", "changed", "tools.search_notes")
    return {item["path"]: item for item in entry["details"]}


def test_a_property_type_change_names_its_path_and_both_types():
    after = search_tool()
    after["inputSchema"]["properties"]["limit"]["type"] = "integer"
    details = tool_details(search_tool(), after)
    assert list(details) == ["inputSchema.properties.limit.type"]
    limit = details["inputSchema.properties.limit.type"]
    assert (limit["change"], limit["aspect"], limit["before"], limit["after"]) == (
        "changed",
        "type",
        "string",
        "integer",
    )
    assert limit["summary"] == "inputSchema property limit: type string -> integer"


def test_required_enum_description_and_added_and_removed_properties():
    after = search_tool()
    props = after["inputSchema"]["properties"]
    after["inputSchema"]["required"] = ["limit"]
    props["order"]["enum"] = ["asc", "desc", "relevance"]
    props["query"]["description"] = "Words to look for"
    props["since"] = {"type": "string", "format": "date-time"}
    del props["filter"]
    before_spec = draft_spec("notes", tools=[search_tool()], scopes=[])
    (entry,) = diff_states(state(before_spec), state(draft_spec("notes", tools=[after], scopes=[])))
    assert sorted((item["path"], item["change"], item["aspect"]) for item in entry["details"]) == [
        ("inputSchema.properties.filter", "removed", "schema"),
        ("inputSchema.properties.order.enum", "added", "enum"),
        ("inputSchema.properties.query.description", "changed", "description"),
        ("inputSchema.properties.since", "added", "schema"),
        ("inputSchema.required", "added", "required"),
        ("inputSchema.required", "removed", "required"),
    ]
    entry = diff_states(
        state(draft_spec("notes", tools=[search_tool()], scopes=[])),
        state(draft_spec("notes", tools=[after], scopes=[])),
    )[0]
    summaries = [item["summary"] for item in entry["details"]]
    assert "inputSchema property limit now required" in summaries
    assert "inputSchema property query no longer required" in summaries
    assert "inputSchema property order: enum value relevance added" in summaries
    assert "inputSchema property since added (string)" in summaries
    assert "inputSchema property filter removed (object)" in summaries
    assert "inputSchema property query: description What to look for -> Words to look for" in summaries


def test_a_nested_property_and_array_items_are_followed():
    after = search_tool(tags={"type": "array", "items": {"type": "integer"}})
    before = search_tool(tags={"type": "array", "items": {"type": "string"}})
    after["inputSchema"]["properties"]["filter"]["properties"]["tag"]["type"] = "integer"
    details = tool_details(before, after)
    assert set(details) == {
        "inputSchema.properties.filter.properties.tag.type",
        "inputSchema.properties.tags.items.type",
    }
    assert details["inputSchema.properties.filter.properties.tag.type"]["summary"] == (
        "inputSchema property filter.tag: type string -> integer"
    )
    assert details["inputSchema.properties.tags.items.type"]["summary"] == (
        "inputSchema property tags[]: type string -> integer"
    )


def test_a_change_of_json_type_alone_is_a_change():
    after = search_tool(limit={"type": "integer", "maximum": 1.0})
    before = search_tool(limit={"type": "integer", "maximum": 1})
    details = tool_details(before, after)
    assert list(details) == ["inputSchema.properties.limit.maximum"]


def test_annotation_hints_and_plain_fields():
    before = search_tool()
    after = copy.deepcopy(before)
    after["annotations"] = {"readOnlyHint": False, "destructiveHint": True}
    after["description"] = "Searches notes"
    after["outputSchema"] = {"type": "object"}
    details = tool_details(before, after)
    assert details["annotations.readOnlyHint"]["before"] is True
    assert details["annotations.readOnlyHint"]["after"] is False
    assert details["annotations.destructiveHint"]["change"] == "added"
    assert details["description"]["summary"] == "description search_notes tool -> Searches notes"
    assert details["outputSchema"]["change"] == "added"


def test_policy_details_name_the_decision_per_scope():
    spec = draft_spec("github")
    before = state(spec, {"admin_write": "firearm.a", "read_public": None}, {"admin_write": ["kpi.x"]})
    after = state(spec, {"admin_write": "firearm.b", "read_public": "firearm.c"}, {"read_public": ["kpi.y"]})
    entries = diff_states(before, after)
    by_path = {(e["path"], e["change"]): e for e in entries}
    firearm = by_path[("firearms.admin_write", "changed")]["details"][0]
    assert (firearm["aspect"], firearm["before"], firearm["after"]) == ("firearm", "firearm.a", "firearm.b")
    # NONE -> firearm.c: a decision changed (the badge says changed, not added); null is NONE, as in
    # policy_snapshot.
    firearm = by_path[("firearms.read_public", "changed")]
    assert (firearm["before"], firearm["after"]) == (None, "firearm.c")
    assert (firearm["details"][0]["before"], firearm["details"][0]["after"]) == (None, "firearm.c")
    assert by_path[("kpis.admin_write", "removed")]["details"][0]["before"] == "kpi.x"
    assert by_path[("kpis.read_public", "added")]["details"][0]["after"] == "kpi.y"
    # Entries keep their fields for existing callers; every entry carries a details list.
    assert all(set(e) == {"area", "change", "path", "summary", "before", "after", "details"} for e in entries)


# -- risk flags ----------------------------------------------------------------------------------------


def live_github(spec, firearms):
    """github 1.0.0 live with `spec` and firearm bindings {scope: firearm_id}."""
    connector = ConnectorFactory(
        connector_id="github",
        latest_spec=ConnectorSpecFactory(spec_id="github", version="1.0.0", schema=spec),
    )
    for scope, firearm_id in firearms.items():
        FirearmBindingFactory(
            action_name=f"github:{scope}", firearm=FirearmFactory(firearm_id=firearm_id)
        )
    return connector


def test_a_changed_firearm_is_flagged_with_what_it_does_to_todays_grants():
    live_github(draft_spec("github", "1.0.0"), {"admin_write": "firearm.external_write"})
    new = FirearmFactory(firearm_id="firearm.destructive_op")
    old = FirearmBindingFactory._meta.model.objects.get(action_name="github:admin_write").firearm
    FirearmGrantFactory.create_batch(2, firearm=old)
    FirearmGrantFactory(firearm=old, revoked_at=timezone.now())  # revoked: does not count
    FirearmGrantFactory(firearm=new)
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.1.0"),
        policy_snapshot={"firearms": {"admin_write": new.firearm_id, "read_public": None}},
    )
    flags = publish_risk_flags(draft)
    changed = "firearm of scope admin_write changed from firearm.external_write to firearm.destructive_op"
    assert changed in flags
    assert (
        "grants of firearm.external_write no longer open github:admin_write (2 active grants of "
        "firearm.external_write in 2 tenants); callers need a grant of firearm.destructive_op (1 active "
        "grant of firearm.destructive_op in 1 tenant)"
    ) in flags


def test_a_firearm_given_to_a_scope_that_had_none_is_flagged():
    live_github(draft_spec("github", "1.0.0"), {})
    FirearmFactory(firearm_id="firearm.data_export")
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.1.0"),
        policy_snapshot={"firearms": {"admin_write": None, "read_public": "firearm.data_export"}},
    )
    assert (
        "scope read_public now needs firearm firearm.data_export (was NONE): callers without a grant of "
        "it lose access (no active grant of firearm.data_export)"
    ) in publish_risk_flags(draft)


def test_a_scope_that_gains_a_tool_while_it_has_a_firearm_is_flagged():
    live_github(draft_spec("github", "1.0.0"), {"admin_write": "firearm.external_write"})
    scopes = [
        {"name": "admin_write", "tools": ["delete_file", "get_file_contents"]},
        {"name": "read_public", "tools": ["get_file_contents"]},
    ]
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.1.0", scopes=scopes),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
    )
    flags = publish_risk_flags(draft)
    assert (
        "scope admin_write gains get_file_contents while it has firearm firearm.external_write: everyone "
        "granted firearm.external_write can call it"
    ) in flags
    # The same gain in a scope without a firearm is not this flag.
    assert not any(flag.startswith("scope read_public gains") for flag in flags)


def test_a_tool_that_becomes_destructive_or_loses_read_only_is_flagged():
    live = draft_spec(
        "github",
        "1.0.0",
        tools=[draft_tool("delete_file", destructive=False), draft_tool("get_file_contents", read_only=True)],
    )
    live_github(live, {"admin_write": "firearm.external_write"})
    tools = [draft_tool("delete_file"), draft_tool("get_file_contents", read_only=False, destructive=False)]
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.1.0", tools=tools),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
    )
    flags = publish_risk_flags(draft)
    assert "tool delete_file becomes destructive (its annotations no longer say otherwise)" in flags
    assert "tool get_file_contents is no longer read-only" in flags
    assert not any("firearm of scope" in flag for flag in flags)


def test_an_unchanged_draft_of_a_live_connector_has_no_flags():
    spec = draft_spec("github", "1.0.0")
    live_github(spec, {"admin_write": "firearm.external_write"})
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot={**spec, "version": "1.1.0"},
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
    )
    assert publish_risk_flags(draft) == []


@pytest.mark.parametrize(
    ("before", "after", "change", "cells"),
    [
        ({"s": None}, {"s": "firearm.x"}, "changed", ("NONE", "firearm.x")),
        ({"s": "firearm.x"}, {"s": None}, "changed", ("firearm.x", "NONE")),
        ({}, {"s": None}, "added", ("", "NONE")),
        ({"s": None}, {}, "removed", ("NONE", "")),
        ({"s": "firearm.x"}, {"s": "firearm.y"}, "changed", ("firearm.x", "firearm.y")),
    ],
)
def test_firearm_decisions_null_is_none_and_the_admin_shows_it(before, after, change, cells):
    from workbench.admin.drafts.diff_rows import diff_rows

    spec = draft_spec("github", scopes=[{"name": "s", "tools": ["delete_file", "get_file_contents"]}])
    (entry,) = diff_states(state(spec, before, {}), state(spec, after, {}))
    assert (entry["area"], entry["change"]) == ("firearms", change)
    # The API's values are the policy's own: null is NONE (or no decision, on an added/removed side).
    assert (entry["before"], entry["after"]) == (before.get("s"), after.get("s"))
    ((row,),) = [group["rows"] for group in diff_rows([entry])]
    assert (row["label"], row["before"], row["after"]) == (change, *cells)


def test_a_firearm_set_to_none_is_flagged_as_removed():
    live_github(draft_spec("github", "1.0.0"), {"admin_write": "firearm.external_write"})
    draft = WorkbenchDraftFactory(
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.1.0"),
        policy_snapshot={"firearms": {"admin_write": None, "read_public": None}},
    )
    assert "firearm removed from scope admin_write (was firearm.external_write)" in publish_risk_flags(draft)
