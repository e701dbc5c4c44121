"""The comparison of declared and served tools with whatever a stored spec holds (issue 16 review): tools
that are not objects, annotations or schemas that are not objects, names that are not plain words (a path
names one place: `probe.tools["a.b"]`)."""

import pytest

from tests.workbench.factories import ProbeFactory, draft_tool
from workbench.services.drafts.probe_results import probe_findings
from workbench.services.probes import compare_tools

pytestmark = pytest.mark.django_db


def _found(declared, served):
    return [(f["severity"], f["code"], f["path"]) for f in compare_tools(declared, served)]


def test_a_tool_name_with_a_dot_is_written_in_brackets():
    declared = [draft_tool("notes.search", read_only=True), draft_tool("a b")]
    served = [draft_tool("notes.search", read_only=False), draft_tool("notes.delete")]
    assert sorted(_found(declared, served)) == sorted([
        ("error", "declared_not_served", 'probe.tools["a b"]'),
        ("error", "served_not_declared", 'probe.tools["notes.delete"]'),
        ("warning", "annotations_differs", 'probe.tools["notes.search"].annotations.readOnlyHint'),
    ])


def test_a_schema_key_that_is_not_a_plain_word_is_written_in_brackets():
    declared = [draft_tool("a", inputSchema={"type": "object", "properties": {"x.y": {"type": "string"}}})]
    served = [draft_tool("a", inputSchema={"type": "object", "properties": {"x.y": {"type": "integer"}}})]
    [item] = compare_tools(declared, served)
    assert item["path"] == 'probe.tools.a.inputSchema.properties["x.y"].type'
    assert item["message"] == (
        "Tool 'a': the draft's input schema and the server's are not the same here: the draft has "
        '"string", the server "integer".'
    )


@pytest.mark.parametrize(
    "declared",
    [
        ["x", None, 3, [], {"name": ["a"]}, {"name": None}, {"no": "name"}],
        "not a list",
        None,
        {"tools": []},
    ],
)
def test_declared_tools_of_any_shape_compare_without_error(declared):
    assert _found(declared, [draft_tool("a")]) == [("error", "served_not_declared", "probe.tools.a")]


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [("x", {"readOnlyHint": True}), ([1, 2], {"readOnlyHint": True}), (None, {}), (7, "x")],
)
def test_annotations_or_schemas_that_are_not_objects_are_a_difference_not_an_error(mine, theirs):
    tool = {"name": "a", "inputSchema": mine, "annotations": mine}
    live = {"name": "a", "inputSchema": theirs, "annotations": theirs}
    found = _found([tool], [live])
    assert {code for _, code, _ in found} == {"inputschema_differs", "annotations_differs"}
    assert {severity for severity, _, _ in found} == {"warning"}


def test_stored_findings_that_are_not_objects_are_left_out_of_validation():
    probe = ProbeFactory(findings=["junk", None, {"severity": "warning", "code": "annotations_differs",
                                                  "path": "probe.tools.a", "message": "m"}])
    found = probe_findings(probe.draft)
    assert [(f["severity"], f["code"], f["stage"]) for f in found] == [
        ("warning", "annotations_differs", "verification")
    ]
