"""Firearms, grants and bindings through the API: CRUD through the row service, grants only given and
revoked, principals named by username / group name / tenant slug."""

import pytest
from django.utils import timezone

from policies.models import Firearm, FirearmBinding, FirearmGrant
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, FirearmGrantFactory
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    token_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return SuperuserFactory(username="boss")


@pytest.fixture
def client(admin):
    return token_client(admin)


def _fields(response):
    return [error["field"] for error in response.json()["errors"]]


def test_firearm_crud_by_dotted_id(client):
    created = client.post(
        "/api/v1/firearms/", {"firearm_id": "firearm.external_write", "name": "External write"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["severity"] == "high"
    url = "/api/v1/firearms/firearm.external_write/"
    assert client.get(url).json()["name"] == "External write"
    replaced = client.put(
        url, {"firearm_id": "firearm.external_write", "name": "Writes outside", "severity": "critical"},
        format="json",
    )
    assert replaced.json()["severity"] == "critical"
    patched = client.patch(url, {"description": "Sends data out"}, format="json").json()
    assert (patched["name"], patched["description"]) == ("Writes outside", "Sends data out")
    assert client.delete(url).status_code == 204
    assert not Firearm.objects.exists()


def test_firearm_filters(client):
    FirearmFactory(firearm_id="firearm.low_risk", severity="low")
    FirearmFactory(firearm_id="firearm.money_movement", severity="critical")
    assert [r["firearm_id"] for r in client.get("/api/v1/firearms/?severity=low").json()["results"]] == [
        "firearm.low_risk"
    ]
    assert client.get("/api/v1/firearms/?search=money").json()["count"] == 1


def test_firearm_with_grants_cannot_be_deleted(client):
    FirearmGrantFactory(firearm=FirearmFactory(firearm_id="firearm.deploy"))
    response = client.delete("/api/v1/firearms/firearm.deploy/")
    assert (response.status_code, response.json()["code"]) == (409, "protected")


@pytest.mark.parametrize(
    ("principal", "make"),
    [
        ("user", lambda: UserFactory(username="alice").username),
        ("group", lambda: GroupFactory(name="release-managers").name),
        ("tenant", lambda: TenantFactory(slug="acme").slug),
    ],
)
def test_grant_to_each_principal_records_who_granted(client, admin, principal, make):
    FirearmFactory(firearm_id="firearm.deploy")
    body = {"firearm": "firearm.deploy", "principal_type": principal, principal: make(), "reason": "On call"}
    response = client.post("/api/v1/firearm-grants/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["granted_by"], data["is_active"], data[principal]) == ("boss", True, body[principal])
    grant = FirearmGrant.objects.get(uid=data["uid"])
    assert grant.granted_by == admin
    assert grant.history.get().history_user == admin


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"principal_type": "user"}, ["user"]),
        ({"principal_type": "user", "user": "alice", "tenant": "acme"}, ["tenant"]),
        ({"principal_type": "user", "user": "nobody"}, ["user"]),
        ({"principal_type": "robot", "user": "alice"}, ["principal_type"]),
        ({"principal_type": "user", "user": "alice", "firearm": "firearm.none"}, ["firearm"]),
        ({"principal_type": "user", "user": "alice", "reason": ""}, ["reason"]),
        ({"principal_type": "user", "user": "alice", "expires_at": "2001-01-01T00:00:00Z"}, ["expires_at"]),
    ],
)
def test_invalid_grants_name_the_field(client, body, fields):
    UserFactory(username="alice")
    TenantFactory(slug="acme")
    FirearmFactory(firearm_id="firearm.deploy")
    response = client.post(
        "/api/v1/firearm-grants/", {"firearm": "firearm.deploy", "reason": "On call", **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert _fields(response) == fields
    assert not FirearmGrant.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_grants_are_never_edited_or_deleted(client, method):
    grant = FirearmGrantFactory()
    response = getattr(client, method)(f"/api/v1/firearm-grants/{grant.uid}/", {"reason": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert FirearmGrant.objects.get(pk=grant.pk).reason == grant.reason


def test_revoke_keeps_the_row_with_who_and_why(client, admin):
    grant = FirearmGrantFactory()
    url = f"/api/v1/firearm-grants/{grant.uid}/revoke/"
    response = client.post(url, {"reason": "Left the team"}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["is_active"], data["revoked_by"], data["revoke_reason"]) == (False, "boss", "Left the team")
    again = client.post(url, {"reason": "Twice"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_revoked")
    history = FirearmGrant.objects.get(pk=grant.pk).history.order_by("history_date")
    assert history.last().history_user == admin


def test_revoke_needs_a_reason(client):
    grant = FirearmGrantFactory()
    response = client.post(f"/api/v1/firearm-grants/{grant.uid}/revoke/", {"reason": " "}, format="json")
    assert (response.status_code, _fields(response)) == (400, ["reason"])
    assert FirearmGrant.objects.get(pk=grant.pk).revoked_at is None


def test_grant_filters(client):
    alice = UserFactory(username="alice")
    acme = MembershipFactory(user=alice, tenant=TenantFactory(slug="acme")).tenant
    deploy = FirearmFactory(firearm_id="firearm.deploy")
    direct = FirearmGrantFactory(firearm=deploy, user=alice)
    FirearmGrantFactory(firearm=deploy, principal_type="tenant", user=None, tenant=acme)
    revoked = FirearmGrantFactory(user=alice)
    FirearmGrant.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now(), revoke_reason="done")

    def uids(query):
        return {r["uid"] for r in client.get(f"/api/v1/firearm-grants/?{query}").json()["results"]}

    assert uids("user=alice&active=true") == {str(direct.uid)}
    assert uids("revoked=true") == {str(revoked.uid)}
    assert len(uids("firearm=firearm.deploy")) == 2
    assert len(uids("principal_type=tenant&tenant=acme")) == 1


def test_grant_create_needs_the_add_permission():
    FirearmFactory(firearm_id="firearm.deploy")
    UserFactory(username="alice")
    client = token_client(UserFactory(perms=["policies.view_firearmgrant"]))
    body = {"firearm": "firearm.deploy", "principal_type": "user", "user": "alice", "reason": "x"}
    assert client.post("/api/v1/firearm-grants/", body, format="json").status_code == 403


@pytest.mark.parametrize("action_name", ["github:admin_write", "leads.create"])
def test_binding_crud_by_action_name(client, action_name):
    FirearmFactory(firearm_id="firearm.deploy")
    FirearmFactory(firearm_id="firearm.money")
    body = {"action_name": action_name, "firearm": "firearm.deploy"}
    assert client.post("/api/v1/firearm-bindings/", body, format="json").status_code == 201
    url = f"/api/v1/firearm-bindings/{action_name}/"
    assert client.get(url).json()["firearm"] == "firearm.deploy"
    assert client.patch(url, {"firearm": "firearm.money"}, format="json").json()["firearm"] == "firearm.money"
    assert FirearmBinding.objects.get(action_name=action_name).firearm.firearm_id == "firearm.money"
    assert client.delete(url).status_code == 204


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"action_name": "Not An Action", "firearm": "firearm.deploy"}, ["action_name"]),
        ({"action_name": "github:admin_write", "firearm": "firearm.none"}, ["firearm"]),
        ({"action_name": "github:taken", "firearm": "firearm.deploy"}, ["action_name"]),
    ],
)
def test_invalid_bindings_name_the_field(client, body, fields):
    FirearmBindingFactory(action_name="github:taken", firearm=FirearmFactory(firearm_id="firearm.deploy"))
    response = client.post("/api/v1/firearm-bindings/", body, format="json")
    assert (response.status_code, _fields(response)) == (400, fields)


def test_binding_filters(client):
    deploy = FirearmFactory(firearm_id="firearm.deploy")
    FirearmBindingFactory(action_name="github:admin_write", firearm=deploy)
    FirearmBindingFactory(action_name="gitlab:admin_write", firearm=deploy)
    FirearmBindingFactory(action_name="leads.create")
    assert client.get("/api/v1/firearm-bindings/?connector=github").json()["count"] == 1
    assert client.get("/api/v1/firearm-bindings/?firearm=firearm.deploy").json()["count"] == 2
