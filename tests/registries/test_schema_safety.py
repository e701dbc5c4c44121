"""Issue 11: a tool's JSON Schema is evaluated in bounded time. Patterns run on RE2, a pattern RE2 cannot
take and a `$ref` that loops are refused where the schema enters (registry import, tool edits, draft
validation), and a schema stored before these rules is still answered, never a 500 or a pinned worker."""

import json

import pytest
from django.core.management import CommandError, call_command

from registries.models import ToolDefinition, ToolReceipt
from registries.schemas import dialect_for, schema_errors, tool_errors
from registries.schemas.safety import errors_within, pattern_problem, ref_cycles, safe_validator
from registries.services.tool_registry import RegistryImportError, tool_registry_import
from tests.registries.factories import SEED_PERMISSIONS
from tests.registries.gateway_kit import load_seed_registry, probe_tool, refused, seed_document
from tests.registries.test_tool_validation import good_entry
from workbench.kit.access import SYSTEM

pytestmark = pytest.mark.django_db

CATASTROPHIC = "^(a+)+$"
EVIL_INPUT = "a" * 34 + "!"
LOOPS = [
    {"$ref": "#"},
    {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
    {"$defs": {"a": {"$anchor": "a", "anyOf": [{"$ref": "#a"}]}}, "properties": {"x": {"$ref": "#a"}}},
    {"$defs": {"a": {"not": {"$ref": "#/$defs/a"}}}, "properties": {"x": {"$ref": "#/$defs/a"}}},
]
UNSUPPORTED = [r"(a)\1", "(?=a)b", "(?<!a)b", "a{2,100000}"]


def input_schema(**properties):
    return {"type": "object", "properties": properties}


def test_the_catastrophic_pattern_is_linear_on_re2():
    schema = input_schema(name={"type": "string", "pattern": CATASTROPHIC})
    assert schema_errors(schema, path="$") == []
    validator = safe_validator(dialect_for(schema), schema)
    errors = errors_within(validator, {"name": EVIL_INPUT * 1000})
    assert [error.validator for error in errors] == ["pattern"]
    assert errors_within(validator, {"name": "aaaa"}) == []


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_patterns_re2_cannot_take_are_refused_naming_the_path(pattern):
    assert pattern_problem(pattern)
    schema = input_schema(name={"type": "string", "pattern": pattern})
    findings = tool_errors(good_entry(input_schema={**schema, "required": ["phone"]}), permissions=None)
    found = {f.path: f.message for f in findings}
    assert "linear time" in found["$.input_schema.properties.name.pattern"]


def test_a_pattern_properties_key_re2_cannot_take_is_refused():
    schema = {"type": "object", "patternProperties": {r"^(x)\1$": {"type": "string"}}}
    paths = [finding.path for finding in schema_errors(schema, path="$.input_schema")]
    assert paths == [r"$.input_schema.patternProperties.^(x)\1$"]


@pytest.mark.parametrize("schema", LOOPS, ids=["self", "allOf-pair", "anchor", "not"])
def test_refs_that_loop_on_the_same_value_are_refused(schema):
    assert ref_cycles(schema)
    assert any("loops back" in f.message for f in schema_errors(schema, path="$"))


def test_recursion_through_properties_is_a_tree_and_fine():
    tree = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}
    assert ref_cycles(tree) == [] and schema_errors(tree, path="$") == []


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (input_schema(name={"type": "string", "pattern": r"(a)\1"}), "input_schema.properties.name.pattern"),
        ({"type": "object", "$ref": "#"}, "input_schema.$ref"),
    ],
    ids=["backreference", "cycle"],
)
def test_registry_import_refuses_it_naming_the_tool_and_nothing_is_written(schema, path):
    load_seed_registry()
    document = seed_document()
    document["tools"][2]["input_schema"] = schema
    before = list(ToolDefinition.objects.values_list("name", "input_schema"))
    with pytest.raises(RegistryImportError) as refused_import:
        tool_registry_import(document=document, user=SYSTEM, source="test")
    name = document["tools"][2]["name"]
    assert any(
        problem.startswith(f"tool '{name}'") and f"$.tools[2].{path}" in problem
        for problem in refused_import.value.plan.errors
    ), refused_import.value.plan.errors
    assert list(ToolDefinition.objects.values_list("name", "input_schema")) == before


def test_the_import_command_refuses_it_too(tmp_path):
    load_seed_registry()
    document = seed_document()
    document["tools"][0]["input_schema"]["properties"]["phone"]["pattern"] = "(?=x)"
    path = tmp_path / "tools.registry.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError) as refused_command:
        call_command("import_tool_registry", str(path))
    message = str(refused_command.value)
    assert "tool 'leads.create': $.tools[0].input_schema.properties.phone.pattern" in message
    assert "linear time" in message


def test_draft_validation_refuses_it():
    from tests.workbench.factories import draft_spec, draft_tool
    from workbench.services.drafts.validation import check_draft_content

    tool = draft_tool("get_file_contents", read_only=True)
    tool["inputSchema"] = {"type": "object", "properties": {"p": {"type": "string", "pattern": r"(a)\1"}}}
    loop = draft_tool("delete_file", destructive=True)
    loop["inputSchema"] = {"type": "object", "$ref": "#"}
    spec = draft_spec(tools=[loop, tool])
    policy = {"firearms": {"admin_write": None, "read_public": None}, "kpis": {}}
    findings = check_draft_content(connector_id="github", spec=spec, policy=policy)
    paths = {item["path"] for item in findings if item["code"] == "invalid_json_schema"}
    assert {
        "spec_snapshot.tools[0].inputSchema.$ref",
        "spec_snapshot.tools[1].inputSchema.properties.p.pattern",
    } <= paths


# -- schemas stored before the rules: answered, not run, never a 500 ---------------------------------------


def _stored(schema, name="probe.touch"):
    tool = probe_tool(name=name)
    # update() bypasses validation, as rows stored before these rules did.
    ToolDefinition.objects.filter(pk=tool.pk).update(input_schema=schema)
    return tool


def test_a_stored_catastrophic_pattern_answers_the_evil_input_at_once(probes, caller):
    _stored(input_schema(title={"type": "string", "pattern": CATASTROPHIC}))
    refusal = refused(caller, input={"title": EVIL_INPUT})
    assert (refusal.status, refusal.code) == (400, "validation_error")
    assert [error["field"] for error in refusal.errors] == ["input.title"]
    assert not ToolReceipt.objects.exists()


@pytest.mark.parametrize("schema", LOOPS[:2], ids=["self", "allOf-pair"])
def test_a_stored_looping_ref_is_a_400_not_a_500(probes, caller, schema):
    _stored(schema)
    refusal = refused(caller, input={"title": "t"})
    assert refusal.status == 400
    assert not ToolReceipt.objects.exists()


def test_a_stored_pattern_re2_cannot_take_refuses_the_call(probes, caller):
    _stored(input_schema(title={"type": "string", "pattern": r"(a)\1"}))
    refusal = refused(caller, input={"title": "aa"})
    assert refusal.status == 400 and "not a pattern this server evaluates" in str(refusal.errors)


def test_the_regex_format_is_checked_on_re2():
    schema = input_schema(expression={"type": "string", "format": "regex"})
    validator = safe_validator(dialect_for(schema), schema)
    assert errors_within(validator, {"expression": CATASTROPHIC}) == []
    assert [e.validator for e in errors_within(validator, {"expression": r"(a)\1"})] == ["format"]


def test_seed_vocabulary_is_what_the_entries_use():
    assert "write:db" in SEED_PERMISSIONS
