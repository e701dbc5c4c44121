"""The drafts admin's "Import from server.json" page (issue 15, item 4): linked from the changelist, paste
or upload a server.json and an optional tools/list, errors on the fields, a message linking the draft."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.registries.factories import ConnectorFactory
from tests.workbench.drafts_admin_kit import staff_member, url
from tests.workbench.server_json_import_kit import NPM_SERVER, REMOTE_SERVER, nothing_written, tools_list
from workbench.models import WorkbenchDraft

pytestmark = pytest.mark.django_db


def test_the_changelist_links_the_import_page(client):
    client.force_login(staff_member())
    page = client.get(url("changelist")).content.decode()
    assert url("import_server_json") in page and "Import from server.json" in page


def test_admin_import_from_pasted_json_opens_the_draft_and_links_it(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    client.force_login(user)
    answer = client.post(
        url("import_server_json"),
        {"tenant": tenant.pk, "server_json": json.dumps(NPM_SERVER), "tools_json": json.dumps(tools_list())},
        follow=True,
    )
    draft = WorkbenchDraft.objects.get(connector_id="weather")
    assert answer.redirect_chain[-1][0] == url("change", draft.pk)
    page = answer.content.decode()
    assert f'<a href="{url("change", draft.pk)}">{draft.pk}</a> opened for weather 1.4.0 with 3 tools' in page
    assert draft.spec_snapshot["repository"]["source"] == "github" and draft.stage == "scoping"
    assert draft.history.get().history_change_reason == "imported from server.json in the admin"


def test_admin_import_from_uploaded_files(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    client.force_login(user)
    answer = client.post(
        url("import_server_json"),
        {
            "tenant": tenant.pk,
            "connector_id": "desk",
            "server_file": SimpleUploadedFile("server.json", json.dumps(REMOTE_SERVER).encode()),
            "tools_file": SimpleUploadedFile("tools.json", json.dumps(tools_list()).encode()),
        },
    )
    assert answer.status_code == 302, answer.context["form"].errors
    draft = WorkbenchDraft.objects.get(connector_id="desk")
    assert draft.spec_snapshot["remotes"][0]["url"] == "https://mcp.example.com/tickets/mcp"
    assert len(draft.spec_snapshot["tools"]) == 3


def test_admin_errors_are_on_the_fields_and_nothing_is_written(client):
    user = staff_member()
    tenant = user.memberships.get().tenant
    client.force_login(user)
    page = url("import_server_json")
    missing = client.post(page, {"tenant": tenant.pk})
    assert missing.context["form"].errors["server_json"] == ["Paste or upload the server.json."]
    bad = {**NPM_SERVER, "version": 5}
    invalid = client.post(
        page,
        {
            "tenant": tenant.pk,
            "server_json": json.dumps(bad),
            "tools_file": SimpleUploadedFile("tools.json", b'{"tools": [{"name": "x"}]}'),
        },
    )
    assert invalid.status_code == 200
    errors = invalid.context["form"].errors
    assert errors["server_json"] == ["server.version: 5 is not of type 'string'"]
    assert "tools_file" not in errors  # the server.json is refused before the tools are read
    tools = client.post(
        page,
        {
            "tenant": tenant.pk,
            "server_json": json.dumps(NPM_SERVER),
            "tools_file": SimpleUploadedFile("tools.json", b'{"tools": [{"name": "x"}]}'),
        },
    )
    assert tools.context["form"].errors["tools_file"] == ["tools[0]: 'inputSchema' is a required property"]
    hostile = client.post(
        page,
        {"tenant": tenant.pk, "server_file": SimpleUploadedFile("s.json", b'{"name": "a\\u0000"}')},
    )
    assert hostile.context["form"].errors["server_file"] == [
        "server: $.name: Text must not contain NUL (\\u0000) characters."
    ]
    assert nothing_written()


def test_admin_refusals_of_the_service_show_above_the_form(client):
    ConnectorFactory(connector_id="weather")
    user = staff_member()
    client.force_login(user)
    answer = client.post(
        url("import_server_json"),
        {"tenant": user.memberships.get().tenant.pk, "server_json": json.dumps(NPM_SERVER)},
    )
    assert "belongs to tenant" in " ".join(answer.context["form"].non_field_errors())
    assert nothing_written()
