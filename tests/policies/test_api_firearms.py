"""Firearms, grants and bindings through the API: CRUD through the row service, grants only given and
revoked within a tenant, principals named by username / group name / tenant slug; bindings are live rows
(written by publish), read-only here."""

import pytest
from django.utils import timezone

from policies.models import Firearm, FirearmBinding, FirearmGrant
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, FirearmGrantFactory
from tests.registries.factories import ConnectorFactory, ScopeFactory
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    platform_staff,
    token_client,
)
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal
from workbench.kit.rows import row_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return SuperuserFactory(username="boss")


@pytest.fixture
def client(admin):
    return token_client(admin)


def member_of(tenant, username):
    return MembershipFactory(tenant=tenant, user=UserFactory(username=username)).user.username


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
        ("user", lambda acme: member_of(acme, "alice")),
        ("group", lambda acme: GroupFactory(name="release-managers").name),
        ("tenant", lambda acme: acme.slug),
    ],
)
def test_grant_to_each_principal_records_who_granted(client, admin, principal, make):
    FirearmFactory(firearm_id="firearm.deploy")
    acme = TenantFactory(slug="acme")
    body = {"firearm": "firearm.deploy", "principal_type": principal, "tenant": "acme", principal: make(acme),
            "reason": "On call"}
    response = client.post("/api/v1/firearm-grants/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["granted_by"], data["is_active"], data[principal]) == ("boss", True, body[principal])
    assert (data["tenant"], data["needs_approval"]) == ("acme", False)
    grant = FirearmGrant.objects.get(uid=data["uid"])
    assert grant.granted_by == admin
    assert grant.history.get().history_user == admin


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"principal_type": "user"}, ["user"]),
        ({"principal_type": "user", "user": "alice", "group": "ops"}, ["group"]),
        ({"principal_type": "user", "user": "nobody"}, ["user"]),
        ({"principal_type": "user", "user": "bob"}, ["user"]),  # not a member of the grant's tenant
        ({"principal_type": "user", "user": "alice", "tenant": None}, ["tenant"]),
        ({"principal_type": "user", "user": "alice", "tenant": "nowhere"}, ["tenant"]),
        ({"principal_type": "robot", "user": "alice"}, ["principal_type"]),
        ({"principal_type": "user", "user": "alice", "firearm": "firearm.none"}, ["firearm"]),
        ({"principal_type": "user", "user": "alice", "reason": ""}, ["reason"]),
        ({"principal_type": "user", "user": "alice", "expires_at": "2001-01-01T00:00:00Z"}, ["expires_at"]),
    ],
)
def test_invalid_grants_name_the_field(client, body, fields):
    acme = TenantFactory(slug="acme")
    MembershipFactory(tenant=acme, user=UserFactory(username="alice"))
    UserFactory(username="bob")
    GroupFactory(name="ops")
    FirearmFactory(firearm_id="firearm.deploy")
    body = {"firearm": "firearm.deploy", "tenant": "acme", "reason": "On call", **body}
    response = client.post("/api/v1/firearm-grants/", body, format="json")
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
    direct = FirearmGrantFactory(firearm=deploy, user=alice, tenant=acme)
    FirearmGrantFactory(firearm=deploy, principal_type="tenant", user=None, tenant=acme)
    revoked = FirearmGrantFactory(user=alice, tenant=acme)
    FirearmGrant.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now(), revoke_reason="done")
    other = FirearmGrantFactory(firearm=deploy)  # within another tenant
    # Grants are rows of their tenants: an auditor lists every tenant's.
    auditor = token_client(platform_staff(["policies.view_firearmgrant"]))

    def uids(query, caller=auditor):
        return {r["uid"] for r in caller.get(f"/api/v1/firearm-grants/?{query}").json()["results"]}

    assert uids("user=alice&active=true") == {str(direct.uid)}
    assert uids("revoked=true") == {str(revoked.uid)}
    assert len(uids("firearm=firearm.deploy")) == 3
    assert len(uids("principal_type=tenant&tenant=acme")) == 1
    # A member lists their tenant's grants only; a superuser who is neither member nor auditor, none.
    member = MembershipFactory(tenant=acme, user=UserFactory(perms=["policies.view_firearmgrant"])).user
    assert uids("", token_client(member)) == uids("tenant=acme") == uids("") - {str(other.uid)}
    assert uids("", client) == set()


def test_firearms_are_written_by_platform_staff_only():
    FirearmFactory(firearm_id="firearm.deploy", name="Deploy")
    perms = [f"policies.{action}_firearm" for action in ("view", "add", "change", "delete")]
    tenant_owner = MembershipFactory(user=UserFactory(perms=perms), role="owner").user
    client = token_client(tenant_owner)
    url = "/api/v1/firearms/firearm.deploy/"
    assert client.get(url).status_code == 200
    for response in (
        client.post("/api/v1/firearms/", {"firearm_id": "firearm.other", "name": "Other"}, format="json"),
        client.patch(url, {"name": "Mine"}, format="json"),
        client.delete(url),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "platform_scope")
    assert list(Firearm.objects.values_list("firearm_id", "name")) == [("firearm.deploy", "Deploy")]
    staff = token_client(platform_staff(perms))
    assert staff.patch(url, {"name": "Ours"}, format="json").json()["name"] == "Ours"


def test_a_tenants_owner_grants_within_it_but_never_to_themself():
    perms = ["policies.view_firearmgrant", "policies.add_firearmgrant"]
    acme = TenantFactory(slug="acme")
    TenantFactory(slug="other")
    granter = MembershipFactory(tenant=acme, user=UserFactory(username="olga", perms=perms), role="owner")
    granter = granter.user
    MembershipFactory(tenant=acme, user=UserFactory(username="alice"))
    FirearmFactory(firearm_id="firearm.deploy")
    client = token_client(granter)
    body = {"firearm": "firearm.deploy", "principal_type": "user", "tenant": "acme", "reason": "On call"}

    assert client.post("/api/v1/firearm-grants/", {**body, "user": "alice"}, format="json").status_code == 201
    itself = client.post("/api/v1/firearm-grants/", {**body, "user": "olga"}, format="json")
    assert (itself.status_code, itself.json()["code"], _fields(itself)) == (403, "self_grant", ["user"])
    own_tenant = {**body, "principal_type": "tenant"}
    assert client.post("/api/v1/firearm-grants/", own_tenant, format="json").json()["code"] == "self_grant"
    elsewhere = {**body, "tenant": "other", "user": "alice"}
    other = client.post("/api/v1/firearm-grants/", elsewhere, format="json")
    assert (other.status_code, other.json()["code"]) == (403, "tenant_scope")
    assert FirearmGrant.objects.count() == 1


def test_a_critical_grant_counts_once_a_second_person_approves_it(client, admin):
    FirearmFactory(firearm_id="firearm.money", severity="critical")
    MembershipFactory(tenant=TenantFactory(slug="acme"), user=UserFactory(username="alice"))
    body = {"firearm": "firearm.money", "principal_type": "user", "tenant": "acme", "user": "alice",
            "reason": "Payroll run"}
    created = client.post("/api/v1/firearm-grants/", body, format="json").json()
    assert (created["needs_approval"], created["is_active"], created["approved_by"]) == (True, False, None)
    url = f"/api/v1/firearm-grants/{created['uid']}/approve/"
    by_granter = client.post(url, format="json")
    assert (by_granter.status_code, by_granter.json()["code"]) == (403, "approval_by_second_person")
    second = token_client(platform_staff(["policies.view_firearmgrant", "policies.change_firearmgrant"],
                                         username="second"))
    approved = second.post(url, format="json")
    assert approved.status_code == 200, approved.content
    assert (approved.json()["is_active"], approved.json()["approved_by"]) == (True, "second")
    again = second.post(url, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_approved")


def test_grant_create_needs_the_add_permission():
    FirearmFactory(firearm_id="firearm.deploy")
    UserFactory(username="alice")
    client = token_client(UserFactory(perms=["policies.view_firearmgrant"]))
    body = {"firearm": "firearm.deploy", "principal_type": "user", "user": "alice", "reason": "x"}
    assert client.post("/api/v1/firearm-grants/", body, format="json").status_code == 403


@pytest.mark.parametrize("action_name", ["github:admin_write", "leads.create"])
def test_bindings_are_read_only_here_even_for_a_superuser(client, action_name):
    # Live bindings change only through publish and environment loads: every write method answers 405.
    FirearmBindingFactory(action_name=action_name, firearm=FirearmFactory(firearm_id="firearm.deploy"))
    FirearmFactory(firearm_id="firearm.money")
    url = f"/api/v1/firearm-bindings/{action_name}/"
    assert client.get(url).json()["firearm"] == "firearm.deploy"
    body = {"action_name": "github:other", "firearm": "firearm.money"}
    for response in (
        client.post("/api/v1/firearm-bindings/", body, format="json"),
        client.put(url, {"action_name": action_name, "firearm": "firearm.money"}, format="json"),
        client.patch(url, {"firearm": "firearm.money"}, format="json"),
        client.delete(url),
    ):
        assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
    assert list(FirearmBinding.objects.values_list("action_name", "firearm__firearm_id")) == [
        (action_name, "firearm.deploy")
    ]


@pytest.mark.parametrize("action_name", ["Not An Action", "github:taken", "github:no_such_scope"])
def test_invalid_bindings_name_the_field_on_the_publish_write_path(action_name):
    deploy = FirearmFactory(firearm_id="firearm.deploy")
    ScopeFactory(connector=ConnectorFactory(connector_id="github"), name="taken")
    FirearmBindingFactory(action_name="github:taken", firearm=deploy)
    with pytest.raises(Refusal) as refused:
        row_save(instance=FirearmBinding(action_name=action_name, firearm=deploy), user=SYSTEM)
    assert refused.value.status == 400
    assert {error["field"] for error in refused.value.errors} == {"action_name"}
    assert FirearmBinding.objects.count() == 1


def test_binding_filters(client):
    deploy = FirearmFactory(firearm_id="firearm.deploy")
    FirearmBindingFactory(action_name="github:admin_write", firearm=deploy)
    FirearmBindingFactory(action_name="gitlab:admin_write", firearm=deploy)
    FirearmBindingFactory(action_name="leads.create")
    assert client.get("/api/v1/firearm-bindings/?connector=github").json()["count"] == 1
    assert client.get("/api/v1/firearm-bindings/?firearm=firearm.deploy").json()["count"] == 2
