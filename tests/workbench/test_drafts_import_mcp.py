"""The MCP import page and the API's import-mcp (issue 14, item 9): a pasted or uploaded tools/list result,
and the package the server runs from (npm, PyPI, OCI) judged by one rule, workbench.contract's
packaging_problems, in the form, the API and the draft service alike."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.workbench.drafts_admin_kit import staff_member, url
from tests.workbench.factories import MembershipFactory, UserFactory, draft_tool, token_client
from workbench.models import Membership, WorkbenchDraft

pytestmark = pytest.mark.django_db

TOOLS = {"tools": [draft_tool("search_code", read_only=True), draft_tool("delete_repo")]}
PACKAGES = [
    ("npm", "@modelcontextprotocol/server-github", "1.2.0", "stdio"),
    ("pypi", "mcp-server-git", "0.6.2", "stdio"),
    ("oci", "ghcr.io/acme/github-mcp:1.2.0", "1.2.0", "streamable-http"),
    ("oci", "docker.io/library/mcp@sha256:" + "a" * 64, "2.0.0", "stdio"),
]
WRONG = [
    ("npm", "Not A Package", "1.2.0", "identifier", "npm package name"),
    ("pypi", "-starts-with-dash", "1.0.0", "identifier", "PyPI project name"),
    ("oci", "ghcr.io/Acme/UPPER:1.0", "1.0.0", "identifier", "OCI image reference"),
    ("oci", "ghcr.io/acme/x", "latest", "version", "exact version"),
    ("npm", "@acme/x", "^1.2.0", "version", "exact version"),
    ("npm", "", "1.0.0", "identifier", "Required"),
    ("", "@acme/x", "1.0.0", "registry_type", "Required"),
]
FIELD = {"registry_type": "registry_type", "identifier": "identifier", "version": "package_version"}


@pytest.fixture
def importer(client):
    user = staff_member()
    client.force_login(user)
    return user


def page_data(user, **extra):
    return {
        "tenant": user.memberships.get().tenant.pk, "connector_id": "github", "name": "GitHub",
        "version": "1.0.0", "tools_json": json.dumps(TOOLS), **extra,
    }


@pytest.mark.parametrize("registry_type, identifier, version, transport", PACKAGES)
def test_the_page_saves_npm_pypi_and_oci_packaging(
    client, importer, registry_type, identifier, version, transport
):
    package = {"registry_type": registry_type, "identifier": identifier, "package_version": version}
    response = client.post(url("import_mcp"), page_data(importer, **package, transport=transport))
    draft = WorkbenchDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == url("change", draft.pk)
    assert draft.spec_snapshot["packaging"] == {
        "registry_type": registry_type, "identifier": identifier, "version": version, "transport": transport,
    }


def test_the_page_takes_an_uploaded_tools_list_file(client, importer):
    upload = SimpleUploadedFile("tools.json", json.dumps({"result": TOOLS}).encode(), "application/json")
    # The registry select and transport as the browser sends them by default: no package given.
    defaults = {"registry_type": "npm", "transport": "stdio"}
    data = {**page_data(importer, tools_json="", **defaults), "tools_file": upload}
    response = client.post(url("import_mcp"), data)
    draft = WorkbenchDraft.objects.get()
    assert response.status_code == 302
    assert [tool["name"] for tool in draft.spec_snapshot["tools"]] == ["search_code", "delete_repo"]
    assert draft.spec_snapshot["packaging"] == {}  # no package given: none is made up


def test_the_page_offers_the_contracts_registries_and_a_file_upload(client, importer):
    response = client.get(url("import_mcp"))
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    # The contract schema's registry types decide what is offered (the card offers the same).
    assert [value for value, _ in response.context["form"].fields["registry_type"].choices] == [
        "", "npm", "pypi", "oci", "nuget", "mcpb",
    ]
    assert response.context["form"]["registry_type"].value() == "npm"


@pytest.mark.parametrize("registry_type, identifier, version, field, said", WRONG)
def test_a_bad_package_is_refused_on_its_field_and_nothing_is_written(
    client, importer, registry_type, identifier, version, field, said
):
    response = client.post(url("import_mcp"), page_data(
        importer, registry_type=registry_type, identifier=identifier, package_version=version,
    ))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert said in " ".join(errors[FIELD[field]]), errors
    # the typed values stay
    assert response.context["form"]["identifier"].value() == identifier
    assert not WorkbenchDraft.objects.exists()


def test_a_registry_type_not_offered_is_one_error_on_its_field(client, importer):
    response = client.post(url("import_mcp"), page_data(
        importer, registry_type="cargo", identifier="@acme/x", package_version="1.0.0",
    ))
    errors = response.context["form"].errors
    # Only the choice's own error: not a second "packaging.registry_type: Required" beside the form.
    assert list(errors) == ["registry_type"] and len(errors["registry_type"]) == 1, errors
    assert "Select a valid choice" in errors["registry_type"][0]
    assert not WorkbenchDraft.objects.exists()


@pytest.mark.parametrize("identifier", ["a\x00b", "x" * 600, "ghcr.io/acme/x y", "ghcr.io/acme/x\nfoo"])
def test_hostile_identifiers_are_form_errors(client, importer, identifier):
    response = client.post(url("import_mcp"), page_data(
        importer, registry_type="oci", identifier=identifier, package_version="1.0.0",
    ))
    assert response.status_code == 200 and response.context["form"].errors
    assert not WorkbenchDraft.objects.exists()


# -- the API takes the same packaging, judged by the same rule ---------------------------------------


def api_member():
    user = UserFactory(perms=["workbench.add_workbenchdraft", "workbench.view_workbenchdraft"])
    MembershipFactory(user=user, role=Membership.Role.EDITOR)
    return user


@pytest.mark.parametrize("registry_type, identifier, version, transport", PACKAGES)
def test_the_api_saves_the_same_packaging(registry_type, identifier, version, transport):
    packaging = {
        "registry_type": registry_type, "identifier": identifier, "version": version, "transport": transport,
    }
    response = token_client(api_member()).post(
        "/api/v1/drafts/import-mcp/",
        {"connector_id": "github", "tools_list": TOOLS, "packaging": packaging},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["spec_snapshot"]["packaging"] == packaging


@pytest.mark.parametrize("registry_type, identifier, version, field, said", WRONG)
def test_the_api_refuses_what_the_page_refuses(registry_type, identifier, version, field, said):
    packaging = {"registry_type": registry_type, "identifier": identifier, "version": version}
    response = token_client(api_member()).post(
        "/api/v1/drafts/import-mcp/",
        {"connector_id": "github", "tools_list": TOOLS, "packaging": packaging},
        format="json",
    )
    assert response.status_code == 400
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert said in errors[f"packaging.{field}"], errors
    assert not WorkbenchDraft.objects.exists()
