"""Seed 002's rules for tools.registry.json beyond its schema, through the one import service and every way
in (command, admin): the keyed tools' list is authoritative, one handler per tool name, and the file is
the single source of truth (the export gives the last import back byte for byte)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from registries.models import ToolDefinition, ToolRegistryImport
from registries.services.tool_registry import (
    SEED_KEYED_TOOLS,
    RegistryImportError,
    keyed_tools_list,
    tool_registry_export_text,
    tool_registry_import,
)
from tests.admin_helpers import logged_in
from tests.registries.factories import ensure_seed_permissions
from tests.registries.gateway_kit import SEED_REGISTRY, load_seed_registry, seed_document, write_registry
from tests.workbench.factories import MembershipFactory, SuperuserFactory, UserFactory, platform_staff
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db

ALL_TOOL_PERMS = [f"registries.{action}_tooldefinition" for action in ("view", "add", "change", "delete")]


@pytest.fixture(autouse=True)
def vocabulary():
    ensure_seed_permissions()



def position(document, name):
    return next(i for i, tool in enumerate(document["tools"]) if tool["name"] == name)


def make_non_keyed(document, name):
    document["tools"][position(document, name)]["idempotency"] = {"mode": "safe-retry"}


def re_key(document, name):
    tool = document["tools"][position(document, name)]
    tool["input_schema"]["properties"]["other_key"] = {"type": "string"}
    tool["idempotency"] = {"mode": "keyed", "key_field": "other_key"}


def drop(document, name):
    del document["tools"][position(document, name)]


CHANGES = {"made non-keyed": make_non_keyed, "re-keyed": re_key, "dropped": drop}


def registry_state():
    return (
        tool_registry_export_text(),
        list(ToolDefinition.objects.values_list("name", "idempotency_mode", "idempotency_key_field")),
        ToolRegistryImport.objects.count(),
        ToolDefinition.history.count(),
    )


# -- the keyed tools' list is authoritative ---------------------------------------------------------------


def test_the_seed_list_is_in_force_and_the_seed_registry_keeps_it():
    assert keyed_tools_list() == SEED_KEYED_TOOLS
    load_seed_registry()
    assert ToolRegistryImport.objects.get().keyed_tools == SEED_KEYED_TOOLS
    keyed = ToolDefinition.objects.filter(idempotency_mode="keyed")
    assert dict(keyed.values_list("name", "idempotency_key_field")) == SEED_KEYED_TOOLS


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("tool", SEED_KEYED_TOOLS)
def test_a_file_changing_a_keyed_tool_is_refused_whole_naming_the_tool(tmp_path, tool, change):
    load_seed_registry()
    before = registry_state()
    document = seed_document()
    document["tools"][-1]["description"] = "A change that would be fine on its own."
    CHANGES[change](document, tool)
    with pytest.raises(CommandError) as error:
        call_command("import_tool_registry", str(write_registry(tmp_path, document)))
    message = str(error.value)
    assert error.value.returncode == 3 and "[invalid_registry]" in message
    assert f"tool '{tool}'" in message and f"keyed by '{SEED_KEYED_TOOLS[tool]}'" in message
    assert "--allow-key-change" in message
    with pytest.raises(RegistryImportError) as refused:
        tool_registry_import(document=document, user=SYSTEM)
    assert [e["code"] for e in refused.value.errors] == ["keyed_tool_changed"]
    assert registry_state() == before


def test_the_list_holds_on_a_first_import_too_but_a_tool_never_imported_is_not_dropped():
    document = seed_document()
    make_non_keyed(document, "leads.create")
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    assert error.value.plan.errors[0].startswith("tool 'leads.create': $.tools[0].idempotency: ")
    only_tasks = seed_document()
    only_tasks["tools"] = [tool for tool in only_tasks["tools"] if tool["name"].startswith("os.")]
    assert tool_registry_import(document=only_tasks, user=SYSTEM).ok


def test_every_keyed_change_is_listed_beside_the_schema_problems():
    load_seed_registry()
    document = seed_document()
    drop(document, "identity.add_memory")
    make_non_keyed(document, "leads.create")
    document["tools"][-1]["timeout_ms"] = 0
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    codes = sorted(entry["code"] for entry in error.value.errors)
    assert codes == ["invalid_registry", "keyed_tool_changed", "keyed_tool_changed"]
    dropped = [problem for problem in error.value.plan.errors if "drops it" in problem]
    assert dropped and dropped[0].startswith("tool 'identity.add_memory': identity.add_memory is keyed")


def test_a_deliberate_key_change_needs_a_reason(tmp_path):
    load_seed_registry()
    document = seed_document()
    re_key(document, "leads.create")
    before = registry_state()
    with pytest.raises(CommandError, match=r"reason_required"):
        call_command("import_tool_registry", str(write_registry(tmp_path, document)), "--allow-key-change")
    with pytest.raises(Refusal) as refused:
        tool_registry_import(document=document, user=SYSTEM, allow_key_change=True, reason="x" * 2001)
    assert refused.value.errors[0]["field"] == "reason"
    assert registry_state() == before


def test_a_deliberate_key_change_leaves_history_with_the_reason_and_who(tmp_path, capsys):
    load_seed_registry()
    operator = platform_staff(ALL_TOOL_PERMS)
    document = seed_document()
    re_key(document, "leads.create")
    drop(document, "personal.boundary_set")
    path = write_registry(tmp_path, document)
    call_command(
        "import_tool_registry", str(path), "--allow-key-change", "--reason", "Leads are deduplicated by "
        "their other key now (ticket 42)", "--user", operator.username,
    )
    out = capsys.readouterr().out
    assert "key change leads.create is keyed by 'phone'" in out and "personal.boundary_set" in out
    record = ToolRegistryImport.objects.first()
    assert record.imported_by == operator
    assert record.key_change_reason.startswith("Leads are deduplicated")
    expected = {**SEED_KEYED_TOOLS, "leads.create": "other_key"}
    del expected["personal.boundary_set"]
    assert record.keyed_tools == expected == keyed_tools_list()
    for name, kind in (("leads.create", "~"), ("personal.boundary_set", "-")):
        row = ToolDefinition.history.filter(name=name).order_by("-history_id").first()
        assert row.history_type == kind
        assert row.history_user == operator
        assert row.history_change_reason.startswith("key change: Leads are deduplicated")
    # The changed list is now the authority: the same file imports plainly, the old seed is refused.
    assert tool_registry_import(content=path.read_bytes(), user=SYSTEM).ok
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(content=SEED_REGISTRY.read_bytes(), user=SYSTEM)
    assert "leads.create is keyed by 'other_key'" in error.value.plan.errors[0]


def test_the_override_adopts_the_files_keyed_tools():
    load_seed_registry()
    document = seed_document()
    tasks = document["tools"][position(document, "os.create_task")]
    tasks["idempotency"] = {"mode": "keyed", "key_field": "title"}
    plan = tool_registry_import(document=document, user=SYSTEM, allow_key_change=True, reason="tasks too")
    assert plan.key_changes == []
    assert keyed_tools_list() == {**SEED_KEYED_TOOLS, "os.create_task": "title"}


def test_only_platform_staff_import_or_change_the_keyed_list(tmp_path):
    load_seed_registry()
    document = seed_document()
    make_non_keyed(document, "leads.create")
    tenant_owner = MembershipFactory(user=UserFactory(perms=ALL_TOOL_PERMS), role="owner").user
    before = registry_state()
    with pytest.raises(Refusal) as refused:
        tool_registry_import(document=document, user=tenant_owner, allow_key_change=True, reason="mine")
    assert (refused.value.status, refused.value.code) == (403, "platform_scope")
    with pytest.raises(CommandError, match="platform_scope"):
        call_command(
            "import_tool_registry", str(write_registry(tmp_path, document)),
            "--allow-key-change", "--reason", "r", "--user", tenant_owner.username,
        )
    assert registry_state() == before


# -- the admin refuses and overrides the same way ------------------------------------------------------


def admin_url(name):
    return reverse(f"admin:registries_tooldefinition_{name}")


def upload(document):
    return SimpleUploadedFile("tools.registry.json", json.dumps(document).encode(), "application/json")


def confirm_data(preview):
    form = preview.context["confirm_form"]
    data = {name: form[name].value() for name in ("content", "source")}
    if form["allow_key_change"].value():
        data.update(allow_key_change="on", reason=form["reason"].value())
    return {**data, "confirm": "yes"}


def test_admin_refuses_a_keyed_change_and_takes_it_deliberately_with_a_reason(client):
    load_seed_registry()
    user = SuperuserFactory()
    logged_in(client, user)
    document = seed_document()
    make_non_keyed(document, "media.register_asset")
    before = registry_state()

    refused = client.post(admin_url("import"), {"file": upload(document)})
    assert refused.context["confirm_form"] is None
    assert "tool &#x27;media.register_asset&#x27;" in refused.content.decode()
    no_reason = client.post(admin_url("import"), {"file": upload(document), "allow_key_change": "on"})
    assert no_reason.context["form"].errors["reason"]
    assert registry_state() == before

    preview = client.post(
        admin_url("import"),
        {"file": upload(document), "allow_key_change": "on", "reason": "Assets are re-registered freely"},
    )
    assert [change.tool for change in preview.context["plan"].key_changes] == ["media.register_asset"]
    assert "deliberately changes the keyed tools" in preview.content.decode()
    assert registry_state() == before
    assert client.post(admin_url("import"), confirm_data(preview)).status_code == 302
    row = ToolDefinition.history.filter(name="media.register_asset").first()
    assert (row.history_user, row.idempotency_mode) == (user, "safe-retry")
    assert row.history_change_reason.startswith("key change: Assets are re-registered freely")
    assert "media.register_asset" not in keyed_tools_list()
    record = ToolRegistryImport.objects.first()
    record_url = reverse("admin:registries_toolregistryimport_change", args=[record.pk])
    page = client.get(record_url).content.decode()
    assert "Assets are re-registered freely" in page and "leads.create by phone" in page


# -- one handler per tool name --------------------------------------------------------------------------


def twin(document, name):
    tool = json.loads(json.dumps(document["tools"][position(document, "os.list_tasks")]))
    tool["name"] = name
    document["tools"].append(tool)


def test_two_names_for_one_handler_are_refused_naming_both(tmp_path, client):
    load_seed_registry()
    before = registry_state()
    document = seed_document()
    twin(document, "reports.daily_summary")
    twin(document, "reports.daily.summary")
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    (problem,) = error.value.plan.errors
    assert "'reports.daily.summary' and 'reports.daily_summary'" in problem
    assert "'daily_summary' of module 'reports'" in problem
    assert [entry["code"] for entry in error.value.errors] == ["handler_collision"]
    with pytest.raises(CommandError, match="reports.daily.summary"):
        call_command("import_tool_registry", str(write_registry(tmp_path, document)))
    logged_in(client, SuperuserFactory())
    page = client.post(admin_url("import"), {"file": upload(document)})
    assert page.context["confirm_form"] is None and "reports.daily_summary" in page.content.decode()
    assert registry_state() == before


def test_three_names_of_one_handler_are_one_problem_naming_all():
    document = seed_document()
    for name in ("a.b_c_d", "a.b.c_d", "a.b.c.d"):
        twin(document, name)
    with pytest.raises(RegistryImportError) as error:
        tool_registry_import(document=document, user=SYSTEM)
    (problem,) = error.value.plan.errors
    assert "'a.b.c.d' and 'a.b.c_d' and 'a.b_c_d'" in problem


# -- the file is the source of truth: export equals the last import, byte for byte ------------------------


ODD_FILES = {
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")).encode(),
    "crlf, sorted keys": lambda doc: json.dumps(doc, indent=4, sort_keys=True).replace("\n", "\r\n").encode(),
    "bom, escaped unicode": lambda doc: b"\xef\xbb\xbf" + json.dumps(doc, ensure_ascii=True).encode(),
    "the seed": lambda doc: SEED_REGISTRY.read_bytes(),
}


@pytest.mark.parametrize("shape", ODD_FILES)
def test_import_then_export_gives_the_file_back_byte_for_byte(tmp_path, client, capsys, shape):
    document = seed_document()
    document["tools"][0]["description"] = "Créer un lead ✓"
    raw = ODD_FILES[shape](document)
    path = tmp_path / "in.json"
    path.write_bytes(raw)
    call_command("import_tool_registry", str(path))
    out = tmp_path / "out.json"
    call_command("export_tool_registry", "--output", str(out))
    assert out.read_bytes() == raw
    capsys.readouterr()
    call_command("export_tool_registry")
    assert capsys.readouterr().out.encode() == raw
    logged_in(client, SuperuserFactory())
    assert client.get(admin_url("export")).content == raw


def test_after_a_refused_import_the_export_is_still_the_last_import(tmp_path):
    first = tmp_path / "first.json"
    first.write_bytes(json.dumps(seed_document(), indent=1).encode())
    call_command("import_tool_registry", str(first))
    for breaking in (
        lambda doc: make_non_keyed(doc, "leads.create"),
        lambda doc: twin(doc, "os.list.tasks"),
        lambda doc: doc["tools"][0].update(timeout_ms=0),
    ):
        document = seed_document()
        breaking(document)
        with pytest.raises(CommandError):
            call_command("import_tool_registry", str(write_registry(tmp_path, document)))
        out = tmp_path / "out.json"
        call_command("export_tool_registry", "--output", str(out))
        assert out.read_bytes() == first.read_bytes()


def test_an_admin_upload_exports_as_uploaded(client):
    logged_in(client, SuperuserFactory())
    raw = json.dumps(seed_document(), indent=3).replace("\n", "\r\n").encode()
    preview = client.post(
        admin_url("import"), {"file": SimpleUploadedFile("t.json", raw, "application/json")}
    )
    assert client.post(admin_url("import"), confirm_data(preview)).status_code == 302
    assert client.get(admin_url("export")).content == raw
    assert tool_registry_export_text().encode() == raw


def test_only_the_import_changes_what_the_file_carries(tmp_path):
    """An environment fixture (or a dump from another database) may set what the file does not carry,
    never a tool's registry entry: that would make the export differ from the last import."""
    from workbench.services import environments

    load_seed_registry()
    before = tool_registry_export_text()
    fixture = tmp_path / "tools.json"
    fixture.write_text(json.dumps([
        {"model": "registries.tooldefinition", "fields": {"name": "leads.create", "idempotency_mode": "none",
                                                         "idempotency_key_field": ""}},
    ]))
    with pytest.raises(Refusal) as refused:
        environments.environment_load(name=str(fixture))
    assert "idempotency change only by importing tools.registry.json" in refused.value.detail
    fixture.write_text(json.dumps([
        {"model": "registries.tooldefinition", "fields": {"name": "notes.create", "description": "New",
                                                         "input_schema": {"type": "object"}}},
    ]))
    with pytest.raises(Refusal, match="tools are added only by importing"):
        environments.environment_load(name=str(fixture))
    fixture.write_text(json.dumps([
        {"model": "registries.tooldefinition", "fields": {"name": "leads.create", "cost": "0.2500",
                                                         "enabled": False}},
    ]))
    environments.environment_load(name=str(fixture))
    tool = ToolDefinition.objects.get(name="leads.create")
    assert (str(tool.cost), tool.enabled) == ("0.2500", False)
    assert tool_registry_export_text() == before
