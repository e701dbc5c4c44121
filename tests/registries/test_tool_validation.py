"""A tool is valid exactly as PRODUCT.md section 5 says: the registry schema file plus the checks it
cannot express (metaschemas, key field, vocabulary). Model, import and API share these rules."""

import copy

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registries.models import ToolDefinition, ToolPermission
from registries.schemas import registry_errors, registry_schema, tool_errors
from tests.registries.factories import SEED_PERMISSIONS, ToolDefinitionFactory, ToolPermissionFactory
from tests.registries.gateway_kit import seed_document
from workbench.kit import identifiers as ids

pytestmark = pytest.mark.django_db

VOCABULARY = set(SEED_PERMISSIONS)


def good_entry(**changes):
    entry = {
        "name": "leads.create",
        "description": "Create a lead",
        "input_schema": {
            "type": "object",
            "properties": {"phone": {"type": "string"}},
            "required": ["phone"],
        },
        "output_schema": {"type": "object"},
        "permissions": ["write:db"],
        "idempotency": {"mode": "keyed", "key_field": "phone"},
        "timeout_ms": 30000,
        "receipt_fields": ["result.lead_id"],
    }
    entry.update(changes)
    return entry


def paths(findings):
    return {finding.path for finding in findings}


def test_schema_file_is_a_valid_schema_and_uses_the_identifier_pattern():
    schema = registry_schema()
    assert schema["$defs"]["tool"]["properties"]["name"]["pattern"] == ids.TOOL_NAME


def test_seed_registry_is_valid():
    assert registry_errors(seed_document(), permissions=VOCABULARY) == []


def test_a_good_entry_has_no_findings():
    assert tool_errors(good_entry(), permissions=VOCABULARY) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"name": "Leads.Create"}, "$.name"),
        ({"name": "leads"}, "$.name"),
        ({"description": ""}, "$.description"),
        ({"input_schema": {"type": "strin"}}, "$.input_schema.type"),
        (
            {"input_schema": {"type": "object", "properties": {"phone": {"type": 5}}}},
            "$.input_schema.properties.phone.type",
        ),
        (
            {"input_schema": {"type": "object", "$schema": "https://example.com/not-a-dialect"}},
            "$.input_schema.$schema",
        ),
        (
            {"input_schema": {"type": "object", "properties": {"a": {"$ref": "https://example.com/x.json"}}}},
            "$.input_schema.properties.a.$ref",
        ),
        ({"output_schema": {"type": "object", "required": "phone"}}, "$.output_schema.required"),
        ({"output_schema": {"$ref": "#/$defs/missing"}}, "$.output_schema.$ref"),
        ({"output_schema": {"$ref": "#nowhere"}}, "$.output_schema.$ref"),
        ({"idempotency": {"mode": "sometimes"}}, "$.idempotency.mode"),
        ({"idempotency": {"mode": "keyed"}}, "$.idempotency"),
        ({"idempotency": {"mode": "keyed", "key_field": "email"}}, "$.idempotency.key_field"),
        ({"permissions": ["write:db", "launch:rockets"]}, "$.permissions[1]"),
        ({"permissions": ["WRITE"]}, "$.permissions[0]"),
        ({"timeout_ms": 0}, "$.timeout_ms"),
        ({"timeout_ms": -5}, "$.timeout_ms"),
        ({"timeout_ms": 1.5}, "$.timeout_ms"),
        ({"timeout_ms": "30000"}, "$.timeout_ms"),
        ({"receipt_fields": ["lead_id"]}, "$.receipt_fields[0]"),
        ({"receipt_fields": ["result"]}, "$.receipt_fields[0]"),
        ({"surprise": True}, "$"),
        ({"description": "nul \x00 here"}, "$.description"),
        ({"output_schema": {"type": "object", "title": "a\x00b"}}, "$.output_schema.title"),
    ],
)
def test_each_rule_names_the_json_path(changes, path):
    assert path in paths(tool_errors(good_entry(**changes), permissions=VOCABULARY))


def test_local_refs_that_resolve_are_fine():
    schema = {
        "type": "object",
        "$defs": {"phone": {"$anchor": "phone", "type": "string"}},
        "properties": {"phone": {"$ref": "#/$defs/phone"}, "again": {"$ref": "#phone"}, "me": {"$ref": "#"}},
    }
    assert tool_errors(good_entry(input_schema=schema), permissions=VOCABULARY) == []


def test_draft_7_schema_is_checked_against_its_own_metaschema():
    draft7 = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"phone": {"type": "string"}},
    }
    assert tool_errors(good_entry(input_schema=draft7), permissions=VOCABULARY) == []
    broken = {**draft7, "properties": {"phone": {"type": "string", "minLength": -1}}}
    assert "$.input_schema.properties.phone.minLength" in paths(
        tool_errors(good_entry(input_schema=broken), permissions=VOCABULARY)
    )


def test_registry_errors_name_the_tool_index_and_catch_duplicates():
    document = seed_document()
    document["tools"].append(copy.deepcopy(document["tools"][0]))
    findings = registry_errors(document, permissions=VOCABULARY)
    assert [f.path for f in findings] == [f"$.tools[{len(document['tools']) - 1}].name"]
    assert "Duplicate tool name 'leads.create'" in findings[0].message


def test_registry_needs_version_and_tools():
    assert paths(registry_errors({"tools": []}, permissions=VOCABULARY)) == {"$"}
    assert "$.version" in paths(registry_errors({"version": "one", "tools": []}, permissions=VOCABULARY))


def test_model_full_clean_puts_each_finding_on_its_field():
    tool = ToolDefinitionFactory.build(
        name="leads.create",
        idempotency_mode="keyed",
        idempotency_key_field="email",
        input_schema={"type": "object", "properties": {"phone": {"type": "strin"}}},
        permissions=["write:db", "launch:rockets"],
        receipt_fields=["lead_id"],
    )
    ToolPermissionFactory(name="write:db")
    with pytest.raises(ValidationError) as error:
        tool.full_clean()
    fields = error.value.message_dict
    assert set(fields) >= {"input_schema", "idempotency_key_field", "permissions", "receipt_fields"}
    assert "launch:rockets" in " ".join(fields["permissions"])
    assert "not a property of input_schema" in " ".join(fields["idempotency_key_field"])


def test_model_reports_a_bad_name_once_in_the_identifier_wording():
    tool = ToolDefinitionFactory.build(name="Bad Name")
    with pytest.raises(ValidationError) as error:
        tool.full_clean()
    assert len(error.value.message_dict["name"]) == 1
    assert "two or more lower-case dotted parts" in error.value.message_dict["name"][0]


@pytest.mark.parametrize(
    "fields",
    [
        {"timeout_ms": 0},
        {"idempotency_mode": "keyed", "idempotency_key_field": ""},
        {"idempotency_mode": "maybe"},
        {"name": "NoDots"},
    ],
)
def test_database_refuses_what_validation_refuses(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ToolDefinition.objects.create(**{"name": "probe.db", "description": "x", **fields})


def test_staff_can_extend_the_vocabulary():
    tool = ToolDefinitionFactory.build(name="space.launch", permissions=["launch:rockets"])
    with pytest.raises(ValidationError):
        tool.full_clean()
    ToolPermission(name="launch:rockets", description="Launch rockets").full_clean()
    ToolPermission.objects.create(name="launch:rockets")
    tool.written_by_registry_import = True  # as the import writes it: only the import adds tools
    tool.full_clean()


def test_seeded_vocabulary_holds_the_six_permissions_of_the_seed():
    # Created by the data migration (re-created by tests after transactional tests flush the tables).
    from tests.registries.factories import ensure_seed_permissions

    ensure_seed_permissions()
    assert set(ToolPermission.objects.values_list("name", flat=True)) >= VOCABULARY
    assert set(ToolPermission.objects.filter(requires_provider=True).values_list("name", flat=True)) == {
        "send:sms",
        "send:email",
        "calendar:read",
        "calendar:write",
    }


def test_a_permission_in_use_cannot_be_deleted():
    ToolDefinitionFactory(name="leads.get", permissions=["read:db"])
    permission = ToolPermission.objects.get(name="read:db")
    with pytest.raises(ValidationError, match="leads.get"):
        permission.delete()


@pytest.mark.parametrize("dialect", [5, ["x"], {"a": 1}, None])
def test_a_non_string_schema_dialect_is_a_finding_not_a_crash(dialect):
    entry = good_entry(input_schema={"$schema": dialect, "type": "object"})
    assert "$.input_schema.$schema" in paths(tool_errors(entry, permissions=VOCABULARY))
