"""server.json as a file: `manage.py export_server_json` and the connector admin's download write the bytes
the /v0 API answers as its `server` member."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from registries.schemas.server_json import server_json_errors
from tests.admin_helpers import logged_in, staff
from tests.registries.factories import published_connector
from tests.registries.mcp_registry_kit import reader, version_url
from tests.workbench.factories import UserFactory

pytestmark = pytest.mark.django_db

NON_ASCII = "Liest Dateien – schnell, mit Umlauten: äöü, und mehr als hundert Zeichen, damit gekürzt wird …!"


def _api_server_bytes(connector_id, version):
    body = reader().get(version_url(connector_id, version)).content
    assert body.startswith(b'{"server":')
    server = body[len(b'{"server":'):body.rindex(b',"_meta":{"io.modelcontextprotocol.registry/official"')]
    assert json.loads(server) == json.loads(body)["server"]
    return server


def _export(*args):
    out = io.StringIO()
    call_command("export_server_json", *args, stdout=out)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def github():
    return published_connector("github", ["1.0.0", "1.1.0"], description=NON_ASCII * 2)


def test_the_export_command_writes_the_apis_bytes(github, tmp_path):
    latest = _api_server_bytes("github", "latest")
    assert _export("github") == latest
    assert _export("github@1.0.0") == _api_server_bytes("github", "1.0.0") != latest
    output = tmp_path / "server.json"
    call_command("export_server_json", "github@1.1.0", "--output", str(output), stderr=io.StringIO())
    assert output.read_bytes() == latest
    assert "ä".encode() in latest  # UTF-8, not \\u escapes
    assert server_json_errors(json.loads(output.read_bytes())) == []


@pytest.mark.parametrize(
    ("reference", "message"),
    [("github@9.9.9", "No published version"), ("nothing", "No published version"),
     ("GitHub", "is not CONNECTOR"), ("github@latest@1", "is not CONNECTOR"),
     ("github@1.0", "is not CONNECTOR")],
)
def test_the_export_command_refuses_what_is_not_published(github, reference, message):
    with pytest.raises(CommandError, match=message) as error:
        _export(reference)
    assert error.value.returncode == 3


def test_the_admin_download_is_the_same_file(client, github):
    user = staff(["registries.view_connector"])
    logged_in(client, user)
    page = client.get(reverse("admin:registries_connector_change", args=[github.pk]))
    assert page.status_code == 200
    url = reverse("admin:registries_connector_server_json", args=[github.pk])
    latest_url, old_url = f"{url}?version=latest", f"{url}?version=1.0.0"
    assert "Download server.json" in page.content.decode()
    assert latest_url in page.content.decode() and old_url in page.content.decode()
    assert client.get(url).content == client.get(latest_url).content  # latest unless told
    response = client.get(latest_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="github-1.1.0.server.json"'
    assert response.content == _api_server_bytes("github", "latest")
    assert client.get(old_url).content == _api_server_bytes("github", "1.0.0")
    for version in ("9.9.9", "latest%00", "1.0"):
        assert client.get(f"{url}?version={version}").status_code in (400, 404)


def test_the_admin_download_needs_the_view_permission(client, github):
    logged_in(client, UserFactory(is_staff=True))
    url = reverse("admin:registries_connector_server_json", args=[github.pk])
    assert client.get(url).status_code == 403
