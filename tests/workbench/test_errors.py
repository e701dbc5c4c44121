"""Every API error is application/problem+json with a stable code; never a 500 for client input."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import RequestFactory
from rest_framework.test import APIClient

from policies.models import Firearm
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, FirearmGrantFactory
from tests.workbench.factories import SuperuserFactory, UserFactory, token_client
from workbench.kit.api.errors import handler500, problem_exception_handler
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.fixture
def admin_client():
    return token_client(SuperuserFactory())


def test_bad_firearm_id_is_400_naming_the_field(admin_client):
    """Done-when of the API: a token lists firearms; `Bad Id` answers 400 problem+json naming the field."""
    assert admin_client.get("/api/v1/firearms/").status_code == 200
    response = admin_client.post("/api/v1/firearms/", {"firearm_id": "Bad Id", "name": "Bad"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["detail"] == "Invalid firearm_id."
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("firearm_id", "invalid_identifier")]
    assert not Firearm.objects.exists()


def test_api_messages_equal_the_models_full_clean_messages(admin_client):
    FirearmFactory(firearm_id="firearm.deploy")
    response = admin_client.post("/api/v1/firearms/", {"firearm_id": "firearm.deploy", "name": "Again"},
                                 format="json")
    with pytest.raises(ValidationError) as err:
        Firearm(firearm_id="firearm.deploy", name="Again").full_clean()
    assert [e["message"] for e in response.json()["errors"]] == err.value.message_dict["firearm_id"]
    assert response.json()["errors"][0]["message"] == "A firearm with this id already exists."


def test_missing_required_fields_are_listed_one_per_field(admin_client):
    body = admin_client.post("/api/v1/firearm-grants/", {}, format="json").json()
    assert sorted(e["field"] for e in body["errors"]) == ["firearm", "principal_type", "reason", "tenant"]
    assert {e["code"] for e in body["errors"]} == {"required"}
    # Firearm bindings are live: they change only through publish, so there is nothing to fill in.
    response = admin_client.post("/api/v1/firearm-bindings/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


def test_model_wide_errors_have_no_field(admin_client):
    body = {"kpi": _kpi_id(), "note": "no bounds"}
    response = admin_client.post("/api/v1/kpi-corridors/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": None, "code": "no_bound", "message": "A corridor needs a lower or an upper bound."}
    ]


def _kpi_id():
    from tests.policies.factories import KpiDefinitionFactory

    return KpiDefinitionFactory().kpi_id


@pytest.mark.parametrize(
    ("make", "url"),
    [
        (lambda: FirearmGrantFactory(firearm=FirearmFactory(firearm_id="firearm.deploy")),
         "/api/v1/firearms/firearm.deploy/"),
        (lambda: FirearmBindingFactory(firearm=FirearmFactory(firearm_id="firearm.deploy")),
         "/api/v1/firearms/firearm.deploy/"),
    ],
)
def test_deleting_a_row_still_in_use_is_409_protected(admin_client, make, url):
    make()
    response = admin_client.delete(url)
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "protected"
    assert "still used by 1 firearm" in response.json()["detail"]
    assert Firearm.objects.filter(firearm_id="firearm.deploy").exists()


def test_unknown_object_is_404_problem(admin_client):
    response = admin_client.get("/api/v1/firearms/firearm.nothing/")
    assert _problem(response) == (404, PROBLEM, "not_found")


def test_unknown_uuid_shaped_or_not_is_404(admin_client):
    assert admin_client.get("/api/v1/firearm-grants/not-a-uuid/").status_code == 404
    assert admin_client.get("/api/v1/firearm-grants/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_unknown_api_route_is_404_problem():
    response = APIClient().get("/api/v1/no-such-thing/")
    assert _problem(response) == (404, PROBLEM, "not_found")


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "POST"])
def test_unknown_api_route_is_404_problem_for_writes_too(method):
    # An id the router does not match (engine routes have numeric ids) reaches the catch-all, which is
    # exempt from CSRF: a 404 problem, not the CSRF middleware's HTML 403.
    client = APIClient(enforce_csrf_checks=True)
    response = client.generic(method, "/api/v1/engine-routes/%C2%84/", "{}", content_type="application/json")
    assert _problem(response) == (404, PROBLEM, "not_found")


def test_malformed_json_is_400_problem(admin_client):
    response = admin_client.generic("POST", "/api/v1/firearms/", "{not json", content_type="application/json")
    assert _problem(response) == (400, PROBLEM, "malformed_json")


def test_unsupported_media_type_is_415_problem(admin_client):
    response = admin_client.generic("POST", "/api/v1/firearms/", "a=b", content_type="text/plain")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def _problem(response):
    return response.status_code, response["Content-Type"], response.json()["code"]


def _handle(exc):
    request = RequestFactory().get("/api/v1/firearms/")
    return problem_exception_handler(exc, {"request": request, "view": None})


def test_integrity_error_is_409_conflict_not_500():
    response = _handle(IntegrityError("duplicate key value violates unique constraint"))
    assert (response.status_code, response.data["code"]) == (409, "conflict")
    assert response.content_type == PROBLEM


def test_django_validation_error_keeps_field_keys_and_codes():
    response = _handle(ValidationError({"reason": ValidationError("Say why.", code="required_reason")}))
    assert response.data["errors"] == [{"field": "reason", "code": "required_reason", "message": "Say why."}]


def test_refusal_carries_its_own_status_code_and_extra_members():
    response = _handle(Refusal(423, "locked", "Strategy lock freeze is engaged.", lock="freeze"))
    assert response.status_code == 423
    assert response.data == {
        "type": "about:blank", "title": "Locked", "status": 423, "detail": "Strategy lock freeze is engaged.",
        "code": "locked", "lock": "freeze",
    }


def test_server_error_under_api_is_problem_json():
    response = handler500(RequestFactory().get("/api/v1/firearms/"))
    assert (response.status_code, response["Content-Type"]) == (500, PROBLEM)


def test_permission_denied_for_missing_change_permission_on_an_action():
    grant = FirearmGrantFactory()
    client = token_client(UserFactory(perms=["policies.view_firearmgrant", "policies.add_firearmgrant"]))
    response = client.post(f"/api/v1/firearm-grants/{grant.uid}/revoke/", {"reason": "done"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
