"""`tools/` (registry-file shape, same validation as an import) and `receipts/` (read-only, filterable)."""

import pytest

from registries.models import ToolDefinition
from tests.registries.factories import ToolReceiptFactory, ensure_seed_permissions
from tests.registries.gateway_kit import load_seed_registry, seed_document
from tests.workbench.factories import (
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
    token_client,
)

pytestmark = pytest.mark.django_db

TOOL_PERMS = [
    "registries.view_tooldefinition",
    "registries.add_tooldefinition",
    "registries.change_tooldefinition",
]


@pytest.fixture
def editor():
    """Platform staff holding the tool permissions (the registry is platform-wide)."""
    ensure_seed_permissions()
    return token_client(platform_staff(TOOL_PERMS))


def new_tool(**changes):
    tool = {
        "name": "notes.create",
        "description": "Write a note",
        "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "output_schema": {"type": "object"},
        "permissions": ["write:db"],
        "idempotency": {"mode": "keyed", "key_field": "text"},
        "timeout_ms": 2000,
        "receipt_fields": ["result.note_id"],
    }
    tool.update(changes)
    return tool


def test_list_and_read_by_name_in_the_registry_shape(editor):
    load_seed_registry()
    listed = editor.get("/api/v1/tools/").json()
    assert listed["count"] == len(seed_document()["tools"])
    body = editor.get("/api/v1/tools/leads.create/").json()
    seed = seed_document()["tools"][0]
    assert {key: body[key] for key in seed} == seed
    assert body["coverage"] == {"status": "real", "handler": "registries.handlers.leads.create"}
    assert editor.get("/api/v1/tools/messages.send_sms/").json()["coverage"]["status"] == "not_configured"


def test_filters(editor):
    load_seed_registry()

    def names(query):
        return [t["name"] for t in editor.get(f"/api/v1/tools/{query}").json()["results"]]

    assert names("?mode=none") == ["os.create_task"]
    assert set(names("?permission=read:db")) == {"leads.get", "os.list_tasks"}


def test_create_and_update_use_the_import_validation(editor):
    response = editor.post("/api/v1/tools/", new_tool(), format="json")
    assert response.status_code == 201, response.content
    assert ToolDefinition.objects.get(name="notes.create").idempotency_key_field == "text"

    bad = new_tool(
        name="notes.bad",
        idempotency={"mode": "keyed", "key_field": "title"},
        permissions=["write:db", "launch:rockets"],
        input_schema={"type": "object", "properties": {"text": {"type": "strin"}}},
    )
    body = editor.post("/api/v1/tools/", bad, format="json").json()
    assert body["code"] == "validation_error"
    assert {e["field"] for e in body["errors"]} == {
        "idempotency.key_field",
        "permissions[1]",
        "input_schema.properties.text.type",
    }

    response = editor.patch("/api/v1/tools/notes.create/", {"timeout_ms": 0}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "timeout_ms"
    response = editor.patch("/api/v1/tools/notes.create/", {"enabled": False, "cost": "0.10"}, format="json")
    assert response.status_code == 200 and response.json()["enabled"] is False


def test_a_tool_name_never_changes_and_tools_are_not_deleted_here(editor):
    editor.post("/api/v1/tools/", new_tool(), format="json")
    response = editor.patch("/api/v1/tools/notes.create/", {"name": "notes.renamed"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "name"
    assert editor.delete("/api/v1/tools/notes.create/").status_code == 405


def test_writing_needs_the_model_permissions():
    ensure_seed_permissions()
    reader = token_client(UserFactory(perms=["registries.view_tooldefinition"]))
    assert reader.post("/api/v1/tools/", new_tool(), format="json").status_code == 403
    assert token_client(UserFactory()).get("/api/v1/tools/").status_code == 403


def test_only_platform_staff_write_the_registry(editor):
    editor.post("/api/v1/tools/", new_tool(), format="json")
    # The model permissions without being platform staff (a tenant's owner): 403 before the body is read.
    tenant_owner = MembershipFactory(user=UserFactory(perms=TOOL_PERMS), role="owner").user
    client = token_client(tenant_owner)
    assert client.get("/api/v1/tools/notes.create/").status_code == 200
    for response in (
        client.post("/api/v1/tools/", new_tool(name="notes.other"), format="json"),
        client.post("/api/v1/tools/", {}, format="json"),
        client.patch("/api/v1/tools/notes.create/", {"enabled": False}, format="json"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "platform_scope")
    assert list(ToolDefinition.objects.values_list("name", "enabled")) == [("notes.create", True)]


def test_receipts_are_read_only_and_filterable():
    reader = UserFactory(perms=["registries.view_toolreceipt"])
    client = token_client(reader)
    ToolReceiptFactory(tool_name="leads.create", call_id="a", user=reader)
    ToolReceiptFactory(tool_name="leads.create", call_id="b", status="failed", result=None, user=reader)
    other = ToolReceiptFactory(tool_name="os.create_task", call_id="c", user=reader)

    def calls(query):
        return sorted(r["call_id"] for r in client.get(f"/api/v1/receipts/{query}").json()["results"])

    assert calls("") == ["a", "b", "c"]
    assert calls("?tool=leads.create") == ["a", "b"]
    assert calls("?status=failed") == ["b"]
    assert calls("?call_id=c") == ["c"]
    assert client.get(f"/api/v1/receipts/{other.uid}/").json()["tool"] == "os.create_task"
    assert client.post("/api/v1/receipts/", {}, format="json").status_code == 405
    assert token_client(UserFactory()).get("/api/v1/receipts/").status_code == 403


def test_receipts_show_your_own_calls_and_your_tenants_calls_only():
    perm = ["registries.view_toolreceipt"]
    acme = TenantFactory(slug="acme")
    member, outsider, loner = UserFactory(perms=perm), UserFactory(perms=perm), UserFactory(perms=perm)
    MembershipFactory(tenant=acme, user=member)
    MembershipFactory(tenant=TenantFactory(), user=outsider)
    for_acme = ToolReceiptFactory(call_id="acme", tenant=acme, user=UserFactory(), input={"phone": "+1555"})
    by_outsider = ToolReceiptFactory(call_id="outsider", user=outsider)
    by_loner = ToolReceiptFactory(call_id="loner", user=loner)

    def visible(user):
        client = token_client(user)
        listed = sorted(r["call_id"] for r in client.get("/api/v1/receipts/").json()["results"])
        readable = sorted(
            receipt.call_id
            for receipt in (for_acme, by_outsider, by_loner)
            if client.get(f"/api/v1/receipts/{receipt.uid}/").status_code == 200
        )
        assert listed == readable
        return listed

    assert visible(member) == ["acme"]
    assert visible(outsider) == ["outsider"]
    assert visible(loner) == ["loner"]
    # Superuser status alone reveals no tenant's calls; the audit permission reveals all.
    assert visible(SuperuserFactory()) == []
    assert visible(platform_staff(perm)) == ["acme", "loner", "outsider"]
    assert token_client(outsider).get(f"/api/v1/receipts/{for_acme.uid}/").status_code == 404


def test_openapi_documents_the_gateway(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/tools/{name}/invoke/"]["post"]
    assert {"200", "400", "403", "404", "409", "422", "423", "429", "501", "504"} <= set(
        operation["responses"]
    )
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "/api/v1/receipts/" in schema["paths"]
