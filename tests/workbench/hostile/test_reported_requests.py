"""Issue 11's first paragraph, one regression each: the requests that answered 500 (or pinned a worker, or
filled its memory) get a 4xx problem+json (413 for size) and change nothing. The live-server versions,
behind gunicorn on PostgreSQL, are in test_live_server.py."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from policies.models import Firearm
from registries.models import ToolReceipt
from tests.admin_helpers import logged_in
from tests.registries.gateway_kit import load_seed_registry
from tests.workbench.exchange_kit import make_importer
from tests.workbench.factories import MembershipFactory, SuperuserFactory, WorkbenchDraftFactory, token_client
from tests.workbench.hostile.corpus import DEEP, assert_problem, deep_array, fingerprint
from workbench.models import Membership, WorkbenchDraft

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return SuperuserFactory()


@pytest.fixture
def api(superuser):
    return token_client(superuser)


@pytest.fixture
def draft(superuser):
    """A draft whose tenant the superuser owns, so every refusal below is about the input."""
    draft = WorkbenchDraftFactory()
    MembershipFactory(tenant=draft.tenant, user=superuser, role=Membership.Role.OWNER)
    return draft


def put_json(client, url, text, **headers):
    return client.generic("PUT", url, text.encode(), content_type="application/json", **headers)


def test_a_nul_inside_a_drafts_json_is_400_naming_the_path(api, draft):
    spec = dict(draft.spec_snapshot)
    spec["tools"] = [{**spec["tools"][0], "description": "rm -rf \u0000"}, *spec["tools"][1:]]
    response = put_json(
        api, f"/api/v1/drafts/{draft.pk}/", json.dumps({"spec_snapshot": spec}), HTTP_IF_MATCH='"1"'
    )
    body = assert_problem(response, status=400, code="null_character")
    assert body["errors"][0]["field"] == "$.spec_snapshot.tools[0].description"
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 1


def test_a_lone_surrogate_in_invoke_input_is_400_and_runs_nothing(api):
    load_seed_registry()
    response = api.generic(
        "POST",
        "/api/v1/tools/os.list_tasks/invoke/",
        b'{"call_id": "c-1", "input": {"status": "\\ud800"}}',
        content_type="application/json",
    )
    body = assert_problem(response, status=400, code="lone_surrogate")
    assert body["errors"][0]["field"] == "$.input.status"
    assert not ToolReceipt.objects.exists()


def test_the_gateway_refuses_a_lone_surrogate_handed_to_it_directly():
    from registries.services.gateway import tool_invoke
    from tests.registries.gateway_kit import invoker_with_perm
    from workbench.kit.refusals import Refusal

    load_seed_registry()
    with pytest.raises(Refusal) as refused:
        tool_invoke(
            tool_name="os.list_tasks", call_id="c-1", input={"status": "\udfff"}, user=invoker_with_perm()
        )
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [("input.status", "lone_surrogate")]


@pytest.mark.parametrize(
    "url", ["/api/v1/drafts/", "/api/v1/firearms/", "/api/v1/tools/os.list_tasks/invoke/"]
)
def test_json_nested_ten_thousand_deep_is_400(api, url):
    response = api.generic("POST", url, deep_array(DEEP).encode(), content_type="application/json")
    assert_problem(response, status=400, code="too_deep")


@pytest.mark.parametrize("if_match", ["¹", '"¹"', 'W/"²"', "١"])
def test_an_if_match_with_a_non_ascii_digit_is_428(api, draft, if_match):
    response = api.patch(
        f"/api/v1/drafts/{draft.pk}/", {"stage": "policy"}, format="json", HTTP_IF_MATCH=if_match
    )
    assert_problem(response, status=428, code="precondition_required")
    assert WorkbenchDraft.objects.get(pk=draft.pk).stage == draft.stage


@pytest.mark.parametrize("param", ["to", "from"])
@pytest.mark.parametrize("value", ["²", "١", "1e3"])
def test_a_diff_revision_that_is_not_ascii_digits_is_400(api, draft, param, value):
    body = assert_problem(api.get(f"/api/v1/drafts/{draft.pk}/diff/", {param: value}), status=400)
    assert body["errors"][0]["field"] == param


@pytest.mark.parametrize("path", ["/api/v1/budgets/a%00/", "/api/v1/firearms/x%01y/", "/api/v1/drafts/%7F/"])
def test_a_control_character_in_a_url_lookup_is_404(api, path):
    assert_problem(api.get(path), status=404, code="not_found")
    assert_problem(api.delete(path), status=404, code="not_found")


def test_a_one_megabyte_description_is_refused_by_the_api_naming_the_field(api):
    response = api.post(
        "/api/v1/firearms/",
        {"firearm_id": "firearm.long", "name": "Long", "severity": "high", "description": "x" * 1_000_000},
        format="json",
    )
    body = assert_problem(response, status=400)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("description", "max_length")]
    assert "5000" in body["errors"][0]["message"]
    assert not Firearm.objects.filter(firearm_id="firearm.long").exists()


def test_a_fifty_megabyte_tsv_upload_is_refused_with_its_limit_and_never_stored(client):
    importer = make_importer(is_staff=True)
    logged_in(client, importer)
    content = b"firearm_id\tname\tseverity\n" + b"x" * (50 * 1024 * 1024)
    upload = SimpleUploadedFile("huge.tsv", content)
    before = fingerprint()
    response = client.post(
        "/admin/policies/firearm/import/", {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["import_file"]
    assert errors == [f"The file is {len(content)} bytes; at most {8 * 1024 * 1024} bytes are taken."]
    assert fingerprint() == before


def test_a_body_over_the_cap_is_413_before_it_is_parsed(api):
    body = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = api.generic("POST", "/api/v1/firearms/", body, content_type="application/json")
    body = assert_problem(response, status=413, code="body_too_large")
    assert body["limit"] == 2 * 1024 * 1024
