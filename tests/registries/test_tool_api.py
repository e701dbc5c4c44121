"""`tools/` (registry-file shape, read-only: 405 to every write) and `receipts/` (read-only, filterable)."""

import pytest

from registries.models import ToolDefinition
from registries.services.tool_registry import tool_registry_export_text
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


WRITES = [
    ("post", "/api/v1/tools/"),
    ("put", "/api/v1/tools/leads.create/"),
    ("patch", "/api/v1/tools/leads.create/"),
    ("delete", "/api/v1/tools/leads.create/"),
]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("who", ["platform staff", "superuser", "reader"])
def test_tool_definitions_are_read_only_whoever_asks(method, path, who):
    """tools.registry.json is the single source of truth: the API never writes a tool (405)."""
    load_seed_registry()
    user = {
        "platform staff": lambda: platform_staff([*TOOL_PERMS, "registries.delete_tooldefinition"]),
        "superuser": SuperuserFactory,
        "reader": lambda: UserFactory(perms=["registries.view_tooldefinition"]),
    }[who]()
    before = tool_registry_export_text()
    response = getattr(token_client(user), method)(path, new_tool(name="leads.create"), format="json")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert tool_registry_export_text() == before
    assert ToolDefinition.history.count() == len(seed_document()["tools"])  # the import's rows only


def test_reading_needs_the_view_permission():
    ensure_seed_permissions()
    assert token_client(UserFactory()).get("/api/v1/tools/").status_code == 403


def test_openapi_offers_only_reads_of_tools_and_says_why(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/tools/", "/api/v1/tools/{name}/"):
        operations = schema["paths"][path]
        assert set(operations) - {"parameters"} == {"get"}, path
        description = operations["get"]["description"]
        assert "405" in description and "change only by importing it" in " ".join(description.split())


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
