"""tools.registry.json in and out: all or nothing, errors naming tool and path, round trip, coverage."""

import json

import pytest
from django.core.management import CommandError, call_command

from registries.models import ToolDefinition, ToolRegistryImport
from registries.services.tool_registry import (
    RegistryImportError,
    coverage_markdown,
    tool_coverage,
    tool_registry_export,
    tool_registry_import,
)
from tests.registries.factories import ToolDefinitionFactory, ensure_seed_permissions
from tests.registries.gateway_kit import SEED_REGISTRY, load_seed_registry, seed_document, write_registry
from workbench.kit.access import SYSTEM

pytestmark = pytest.mark.django_db

SEED_KEYED = {
    "leads.create": "phone",
    "media.register_asset": "file_ref",
    "identity.add_memory": "key",
    "identity.score_pattern": "key",
    "personal.boundary_set": "key",
}


@pytest.fixture(autouse=True)
def vocabulary():
    ensure_seed_permissions()



def test_seed_registry_imports_with_the_seed_tools():
    plan = load_seed_registry()
    assert plan.ok and len(plan.created) == ToolDefinition.objects.count() == len(seed_document()["tools"])
    for name, key_field in SEED_KEYED.items():
        tool = ToolDefinition.objects.get(name=name)
        assert (tool.idempotency_mode, tool.idempotency_key_field) == ("keyed", key_field)
    assert ToolDefinition.objects.get(name="os.create_task").idempotency_mode == "none"
    assert any(
        "read:db" in t.permissions for t in ToolDefinition.objects.filter(idempotency_mode="safe-retry")
    )


def test_import_then_export_gives_the_same_json_back(tmp_path):
    call_command("import_tool_registry", str(SEED_REGISTRY))
    out = tmp_path / "exported.json"
    call_command("export_tool_registry", "--output", str(out))
    assert json.loads(out.read_text()) == json.loads(SEED_REGISTRY.read_text())


def test_export_to_stdout_by_default(capsys):
    load_seed_registry()
    call_command("export_tool_registry")
    assert json.loads(capsys.readouterr().out) == seed_document()


def test_export_keeps_the_file_order_and_version(tmp_path):
    document = seed_document()
    document["version"] = "2.3.4"
    document["tools"].reverse()
    call_command("import_tool_registry", str(write_registry(tmp_path, document)))
    assert tool_registry_export() == document
    assert ToolRegistryImport.objects.first().version == "2.3.4"


def test_one_invalid_schema_means_nothing_is_imported(tmp_path):
    document = seed_document()
    document["tools"][3]["input_schema"]["properties"]["key"]["type"] = "strin"
    with pytest.raises(CommandError) as error:
        call_command("import_tool_registry", str(write_registry(tmp_path, document)))
    message = str(error.value)
    assert "nothing was written" in message and "[invalid_registry]" in message
    assert error.value.returncode == 3
    assert "tool 'identity.add_memory': $.tools[3].input_schema.properties.key.type" in message
    assert ToolDefinition.objects.count() == 0
    assert ToolRegistryImport.objects.count() == 0


def test_an_invalid_file_leaves_the_existing_registry_untouched(tmp_path):
    load_seed_registry()
    before = tool_registry_export()
    document = seed_document()
    document["tools"][0]["description"] = "Changed"
    document["tools"][-1]["idempotency"] = {"mode": "keyed", "key_field": "nope"}
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    assert error.value.plan.errors == [
        "tool 'calendar.create_event': $.tools[11].idempotency.key_field: "
        "key_field 'nope' is not a property of input_schema."
    ]
    assert tool_registry_export() == before


def test_every_problem_is_reported_not_just_the_first():
    document = seed_document()
    document["tools"][0]["timeout_ms"] = 0
    document["tools"][5]["permissions"] = ["launch:rockets"]
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    assert len(error.value.plan.errors) == 2
    assert error.value.plan.errors[0].startswith("tool 'leads.create': $.tools[0].timeout_ms")
    assert error.value.plan.errors[1].startswith("tool 'personal.boundary_set': $.tools[5].permissions[0]")


def test_dry_run_writes_nothing(capsys):
    call_command("import_tool_registry", str(SEED_REGISTRY), "--dry-run")
    assert "Dry run, nothing written" in capsys.readouterr().out
    assert ToolDefinition.objects.count() == 0


def test_reimport_updates_removes_and_leaves_the_rest(tmp_path):
    load_seed_registry()
    ToolDefinitionFactory(name="legacy.tool")
    document = seed_document()
    document["tools"][0]["timeout_ms"] = 9999
    plan = tool_registry_import(document=document, user=SYSTEM)
    assert plan.updated == ["leads.create"]
    assert plan.removed == ["legacy.tool"]
    assert len(plan.unchanged) == len(document["tools"]) - 1
    assert not ToolDefinition.objects.filter(name="legacy.tool").exists()
    assert ToolDefinition.objects.get(name="leads.create").timeout_ms == 9999
    # The history keeps what the import changed, with why.
    assert (
        ToolDefinition.history.filter(name="leads.create")
        .first()
        .history_change_reason.startswith("imported")
    )


def test_import_keeps_what_the_file_does_not_carry():
    load_seed_registry()
    ToolDefinition.objects.filter(name="leads.create").update(enabled=False, cost="0.25")
    document = seed_document()
    document["tools"][0]["description"] = "Create a lead (v2)"
    tool_registry_import(document=document, user=SYSTEM)
    tool = ToolDefinition.objects.get(name="leads.create")
    assert (tool.description, tool.enabled, str(tool.cost)) == ("Create a lead (v2)", False, "0.2500")


def test_not_json_is_refused_clearly(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match=r"is not JSON"):
        call_command("import_tool_registry", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_tool_registry", str(tmp_path / "missing.json"))


def test_coverage_says_real_or_not_configured_with_the_handler_path(tmp_path):
    load_seed_registry()
    out = tmp_path / "registry_coverage.md"
    call_command("tool_coverage", "--output", str(out))
    text = out.read_text()
    assert "| `leads.create` | real | `registries.handlers.leads.create` | keyed |" in text
    assert "| `messages.send_sms` | not_configured | `registries.handlers.messages.send_sms` |" in text
    assert "needs an outside provider (send:sms)" in text
    for row in tool_coverage():
        assert row.status == ("not_configured" if row.needs_provider else "real"), row


def test_committed_coverage_report_is_up_to_date(settings):
    """registry_coverage.md at the repo root is what tool_coverage writes for the seed registry."""
    load_seed_registry()
    committed = (settings.BASE_DIR / "registry_coverage.md").read_text(encoding="utf-8")
    assert committed == coverage_markdown(tool_coverage(), version="1.0.0")


def test_coverage_can_report_on_a_file_without_importing_it(capsys):
    call_command("tool_coverage", "--registry", str(SEED_REGISTRY), "--output", "-")
    assert "8 of 12 tools are real" in capsys.readouterr().out
    assert ToolDefinition.objects.count() == 0
