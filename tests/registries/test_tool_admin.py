"""The tool registry in the admin: readable schemas, coverage, import with preview, export, try a tool."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registries.models import Lead, ToolDefinition, ToolPermission, ToolReceipt
from registries.services.tool_registry import (
    coverage_markdown,
    tool_coverage,
    tool_registry_export_text,
)
from tests.admin_helpers import logged_in, staff
from tests.registries.gateway_kit import load_seed_registry, seed_document
from tests.workbench.factories import SuperuserFactory

pytestmark = pytest.mark.django_db

ALL_TOOL_PERMS = [f"registries.{action}_tooldefinition" for action in ("view", "add", "change", "delete")]


def url(name, *args):
    return reverse(f"admin:registries_tooldefinition_{name}", args=args)


def upload(document, name="tools.registry.json"):
    return SimpleUploadedFile(name, json.dumps(document).encode(), content_type="application/json")


@pytest.fixture
def superuser(client):
    return logged_in(client, SuperuserFactory())


def test_changelist_shows_coverage_with_the_handler_path(client, superuser):
    load_seed_registry()
    page = client.get(url("changelist")).content.decode()
    assert "<code>registries.handlers.leads.create</code>" in page
    assert "not_configured" in page and "registries.handlers.messages.send_sms" in page
    # Coloured by a class of a static stylesheet: a style attribute is refused under the admin's CSP.
    assert '<b class="wb-not-configured">not_configured</b>' in page and "color:#ba2121" not in page
    only_missing = client.get(url("changelist") + "?coverage=not_configured")
    assert only_missing.context["cl"].result_count == 4


def test_a_tool_page_shows_schemas_as_pretty_json_read_only(client, superuser):
    load_seed_registry()
    tool = ToolDefinition.objects.get(name="leads.create")
    page = client.get(url("change", tool.pk))
    html = page.content.decode()
    assert page.status_code == 200 and "Try this tool" in html
    assert "<pre" in html and "&quot;phone&quot;: {\n" in html
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in html and "<textarea" not in html


def test_nobody_adds_changes_or_deletes_a_tool_in_the_admin(client, superuser):
    """Tools change only by importing tools.registry.json: not even a superuser edits one here."""
    load_seed_registry()
    before = tool_registry_export_text()
    tool = ToolDefinition.objects.get(name="leads.create")
    data = {"name": "leads.create", "description": "Edited", "timeout_ms": "1", "idempotency_mode": "none"}
    assert client.get(url("add")).status_code == 403
    assert client.post(url("add"), {**data, "name": "notes.create"}).status_code == 403
    assert client.post(url("change", tool.pk), data).status_code == 403
    assert client.post(url("delete", tool.pk), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in client.get(url("changelist")).content.decode()
    assert tool_registry_export_text() == before


def test_import_previews_then_writes_on_confirm(client, superuser):
    preview = client.post(url("import"), {"file": upload(seed_document())})
    assert preview.status_code == 200 and preview.context["plan"].ok
    assert "leads.create" in preview.context["plan"].created
    assert ToolDefinition.objects.count() == 0  # the preview wrote nothing
    confirm = rendered_confirm(preview)
    response = client.post(url("import"), confirm)
    assert response.status_code == 302
    assert ToolDefinition.objects.count() == len(seed_document()["tools"])


def rendered_confirm(preview):
    form = preview.context["confirm_form"]
    return {"content": form["content"].value(), "source": form["source"].value(), "confirm": "yes"}


def test_import_of_an_invalid_file_lists_every_problem_and_writes_nothing(client, superuser):
    document = seed_document()
    document["tools"][2]["timeout_ms"] = -1
    response = client.post(url("import"), {"file": upload(document)})
    page = response.content.decode()
    assert "tool &#x27;media.register_asset&#x27;: $.tools[2].timeout_ms" in page
    assert "Confirm import" not in page
    # Even a forged confirm of the bad content is refused as a whole.
    forged = {"content": json.dumps(document), "source": "x.json", "confirm": "yes"}
    assert client.post(url("import"), forged).status_code == 200
    assert ToolDefinition.objects.count() == 0


def test_import_needs_add_change_and_delete(client):
    logged_in(client, staff(["registries.view_tooldefinition", "registries.add_tooldefinition"]))
    assert client.get(url("import")).status_code == 403
    logged_in(client, staff(ALL_TOOL_PERMS))
    assert client.get(url("import")).status_code == 200


def test_export_downloads_the_registry(client, superuser):
    load_seed_registry()
    response = client.get(url("export"))
    assert response["Content-Disposition"] == 'attachment; filename="tools.registry.json"'
    assert json.loads(response.content) == seed_document()


def test_coverage_page_and_markdown(client):
    load_seed_registry()
    logged_in(client, staff(["registries.view_tooldefinition"]))
    page = client.get(url("coverage"))
    assert (page.context["real"], page.context["not_configured"]) == (8, 4)
    markdown = client.get(url("coverage") + "?format=md").content.decode()
    assert markdown == coverage_markdown(tool_coverage(), version="1.0.0")
    logged_in(client, staff())
    assert client.get(url("coverage")).status_code == 403


def test_try_this_tool_runs_the_gateway_and_shows_replays_and_refusals(client):
    load_seed_registry()
    user = staff(
        ["registries.view_tooldefinition", "registries.invoke_tooldefinition", "registries.view_toolreceipt"]
    )
    logged_in(client, user)
    tool = ToolDefinition.objects.get(name="leads.create")
    page = client.get(url("try", tool.pk))
    assert page.status_code == 200
    assert json.loads(page.context["form"]["input"].value()) == {"phone": ""}
    data = {"input": json.dumps({"phone": "+15550400", "name": "Ann"})}
    executed = client.post(url("try", tool.pk), data)
    assert executed.context["outcome"].replayed is False
    assert "Executed" in executed.content.decode()
    receipt = ToolReceipt.objects.get()
    assert receipt.user == user and Lead.objects.count() == 1
    assert client.get(executed.context["receipt_url"]).status_code == 200
    # A new call (fresh call_id) with the same phone: the keyed tool answers with the first result.
    replay = client.post(url("try", tool.pk), data)
    assert replay.context["call"]["call_id"] != executed.context["call"]["call_id"]
    assert "Replayed an earlier call" in replay.content.decode()
    refused = client.post(url("try", tool.pk), {"input": json.dumps({"name": "x"})})
    assert refused.context["problem"]["code"] == "validation_error"
    assert "input.phone" in refused.content.decode()


def test_trying_a_tool_needs_the_invoke_permission(client):
    load_seed_registry()
    logged_in(client, staff(["registries.view_tooldefinition", "registries.change_tooldefinition"]))
    tool = ToolDefinition.objects.get(name="os.create_task")
    assert client.get(url("try", tool.pk)).status_code == 403
    assert "Try this tool" not in client.get(url("change", tool.pk)).content.decode()


def test_a_permission_in_use_is_not_deletable_in_the_admin(client, superuser):
    load_seed_registry()
    used = ToolPermission.objects.get(name="write:db")
    response = client.get(reverse("admin:registries_toolpermission_delete", args=[used.pk]))
    assert response.status_code == 403
    listing = client.get(reverse("admin:registries_toolpermission_changelist")).content.decode()
    assert "leads.create" in listing


def test_a_file_larger_than_the_form_cap_confirms_byte_for_byte(client, superuser, settings):
    """The confirmation carries the previewed file compressed and signed: a 3 MB registry file (mostly
    whitespace, as a pretty-printer leaves it) fits the 2 MB form body cap, and the export gives its
    bytes back."""
    settings.WORKBENCH_API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    content = json.dumps(seed_document(), indent=2).encode() + b" " * (3 * 1024 * 1024) + b"\n"
    preview = client.post(url("import"), {"file": SimpleUploadedFile("tools.registry.json", content)})
    assert preview.context["plan"].ok
    confirm = rendered_confirm(preview)
    assert len(confirm["content"]) < 100_000
    assert client.post(url("import"), confirm).status_code == 302
    assert tool_registry_export_text().encode() == content


def test_an_altered_confirmation_is_refused_and_writes_nothing(client, superuser):
    preview = client.post(url("import"), {"file": upload(seed_document())})
    confirm = rendered_confirm(preview)
    carried = confirm["content"]
    confirm["content"] = carried[:-3] + ("BBB" if carried.endswith("AAA") else "AAA")
    refused = client.post(url("import"), confirm)
    assert refused.status_code == 200
    assert "could not be read back: upload it again" in refused.content.decode()
    assert ToolDefinition.objects.count() == 0
