import pytest

from tests.policies.factories import FirearmBindingFactory, FirearmFactory
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.kit.refusals import Refusal
from workbench.selectors.draft_diff import (
    diff_states,
    draft_diff_against_live,
    publish_risk_flags,
)
from workbench.selectors.drafts import draft_side
from workbench.services.drafts import draft_update

pytestmark = pytest.mark.django_db


def summaries(entries):
    return [entry["summary"] for entry in entries]


def state(spec, firearms=None, kpis=None, **extra):
    return {
        "spec_snapshot": spec,
        "policy_snapshot": {"firearms": firearms or {}, "kpis": kpis or {}},
        **extra,
    }


def test_scopes_added_removed_and_tools_moved_read_as_sentences():
    before = draft_spec(
        "github",
        scopes=[
            {"name": "admin_write", "tools": ["delete_file"]},
            {"name": "read_public", "tools": ["get_file_contents"]},
        ],
    )
    after = draft_spec(
        "github",
        scopes=[
            {"name": "admin_write", "tools": ["delete_file", "get_file_contents"]},
            {"name": "audit", "tools": []},
        ],
    )
    out = summaries(diff_states(state(before), state(after)))
    assert "scope audit added with 0 tools" in out
    assert "scope read_public removed" in out
    assert "tool get_file_contents moved from read_public to admin_write" in out


def test_tools_added_removed_changed_and_added_to_a_scope():
    before = draft_spec("github")
    tools = [draft_tool("delete_file", destructive=False), draft_tool("create_issue")]
    after = draft_spec(
        "github",
        tools=tools,
        scopes=[
            {"name": "admin_write", "tools": ["delete_file", "create_issue"]},
            {"name": "read_public", "tools": []},
        ],
    )
    out = summaries(diff_states(state(before), state(after)))
    assert "tool create_issue added" in out
    assert "tool get_file_contents removed" in out
    assert "tool delete_file: annotations changed" in out
    assert "tool create_issue added to scope admin_write" in out
    assert "tool get_file_contents removed from scope read_public" in out


def test_firearm_decisions_and_kpis_changed():
    spec = draft_spec("github")
    before = state(
        spec,
        {"admin_write": "firearm.external_write", "read_public": "firearm.read"},
        {"admin_write": ["kpi.a"]},
    )
    after = state(spec, {"admin_write": None, "read_public": "firearm.other"}, {"admin_write": ["kpi.b"]})
    out = summaries(diff_states(before, after))
    assert "firearm removed from scope admin_write (was firearm.external_write)" in out
    assert "firearm of scope read_public changed from firearm.read to firearm.other" in out
    assert "KPI kpi.b added to scope admin_write" in out and "KPI kpi.a removed from scope admin_write" in out
    assert summaries(diff_states(state(spec), state(spec, {"admin_write": None}))) == [
        "scope admin_write: firearm decided NONE"
    ]


def test_plain_fields_and_packaging():
    old, new = draft_spec("github"), draft_spec("github", version="1.3.0", description="New words")
    out = summaries(diff_states(state(old, stage="definition"), state(new, stage="policy")))
    assert "stage definition -> policy" in out
    assert "version '1.2.0' -> '1.3.0'" in out
    assert "packaging version '1.2.0' -> '1.3.0'" in out


def test_diff_between_revisions_of_a_draft():
    draft = WorkbenchDraftFactory()
    spec = draft_spec(draft.connector_id, scopes=[{"name": "admin_write", "tools": ["delete_file"]}])
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": spec})
    assert "scope read_public removed" in summaries(diff_states(draft_side(draft, 1), draft_side(draft, 2)))
    assert diff_states(draft_side(draft, 2), draft_side(draft, 2)) == []
    assert diff_states(draft_side(draft, "live"), draft_side(draft, 2)) != []
    with pytest.raises(Refusal) as refused:
        draft_side(draft, 7, param="to")
    assert (refused.value.status, refused.value.code) == (404, "revision_not_found")
    for bad in ("²", "1.0", "-1", "x" * 20):
        with pytest.raises(Refusal) as refused:
            draft_side(draft, bad, param="to")
        assert refused.value.status == 400 and refused.value.errors[0]["field"] == "to"


def test_diff_against_live_and_risk_flags():
    connector = ConnectorFactory(
        connector_id="github",
        latest_spec=ConnectorSpecFactory(
            spec_id="github", version="1.0.0", schema=draft_spec("github", "1.0.0")
        ),
    )
    FirearmBindingFactory(
        action_name="github:admin_write", firearm=FirearmFactory(firearm_id="firearm.external_write")
    )
    draft = WorkbenchDraftFactory(
        connector_id=connector.connector_id, spec_snapshot=draft_spec("github", "1.1.0")
    )
    out = summaries(draft_diff_against_live(draft))
    assert "version '1.0.0' -> '1.1.0'" in out
    assert "firearm removed from scope admin_write (was firearm.external_write)" in out
    flags = publish_risk_flags(draft)
    assert "destructive tool in a scope without a firearm: admin_write (delete_file)" in flags
    assert "firearm removed from scope admin_write (was firearm.external_write)" in flags


def test_diff_against_nothing_live_lists_everything_as_added():
    draft = WorkbenchDraftFactory(connector_id="fresh")
    out = summaries(draft_diff_against_live(draft))
    assert out[0] == "first version 1.2.0 of a new connector, with 2 tools"
    assert "scope admin_write added with 1 tool" in out and "scope admin_write: firearm decided NONE" in out
    assert not any(line.startswith("tool ") for line in out)
