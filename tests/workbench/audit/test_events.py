"""Every kind of security event is recorded where its change happens, through the real path (a sign-in,
the token command, a group or permission change, a membership, a platform write), and rolls back with
that change."""

import io
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from policies.exchange import FirearmResource
from policies.models import Firearm
from tests.policies.factories import FirearmFactory
from tests.workbench.exchange_kit import FIREARMS, make_importer
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    UserFactory,
    api_token,
    api_token_row,
    platform_staff,
)
from workbench.kit.access import SYSTEM
from workbench.kit.exchange.importing import run_import
from workbench.kit.rows import row_save
from workbench.models import Membership, SecurityEvent
from workbench.services.accounts import account_unlock
from workbench.services.audit import Kind
from workbench.services.environments import loading

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests"  # what the factories give every user
ADDRESS = "198.51.100.7"


def events(kind, **filters):
    return list(SecurityEvent.objects.filter(kind=kind, **filters).order_by("id"))


# -- one case per kind: do the thing, return what its event must say ------------------------------------


def login_succeeded():
    UserFactory(username="alice", is_staff=True)
    Client(REMOTE_ADDR=ADDRESS).post(LOGIN, {"username": "alice", "password": PASSWORD})
    return {"subject": "alice", "actor_username": "alice", "ip": ADDRESS}


def login_failed():
    UserFactory(username="alice", is_staff=True)
    Client(REMOTE_ADDR=ADDRESS).post(LOGIN, {"username": "alice", "password": "guess"})
    return {"subject": "alice", "actor_username": "", "ip": ADDRESS}


def locked_out():
    UserFactory(username="alice", is_staff=True)
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "alice", "password": "guess"})
    return {"subject": "alice", "ip": ADDRESS}


def unlocked():
    locked_out()
    account_unlock(user=SuperuserFactory(username="admin"), username="alice")
    cleared = settings.AXES_FAILURE_LIMIT
    return {"subject": "alice", "actor_username": "admin", "detail__failures_cleared": cleared}


def token_created():
    UserFactory(username="alice")
    call_command("create_api_token", "alice", stdout=io.StringIO(), stderr=io.StringIO())
    key = AuthToken.objects.get().token_key
    return {"subject": f"token {key} of alice", "detail__user": "alice"}


def token_revoked():
    user = UserFactory(username="alice")
    api_token(user)
    key = AuthToken.objects.get().token_key
    user.auth_token_set.all().delete()  # what knox's "log out everywhere" does
    return {"subject": f"token {key} of alice", "detail__reason": "revoked"}


def group_changed():
    user, group = UserFactory(username="alice"), GroupFactory(name="editors")
    user.groups.add(group)
    return {"subject": "user alice", "detail__added_groups": ["editors"]}


def permission_changed():
    group = GroupFactory(name="editors")
    group.permissions.add(Permission.objects.get(codename="change_firearm"))
    return {"subject": "group editors", "detail__added_permissions": ["policies.change_firearm"]}


def membership_changed():
    tenant, user = TenantFactory(slug="acme"), UserFactory(username="alice")
    row_save(instance=Membership(tenant=tenant, user=user, role="viewer"), user=SYSTEM)
    return {"subject": "user alice in acme", "tenant": tenant, "detail__added": True}


def role_changed():
    membership = MembershipFactory(tenant=TenantFactory(slug="acme"), user=UserFactory(username="alice"))
    membership.role = "owner"
    row_save(instance=membership, user=SYSTEM)
    return {"subject": "user alice in acme", "tenant": membership.tenant, "detail__role": ["editor", "owner"]}


def platform_write():
    staff = platform_staff(["policies.add_firearm"], username="platform-editor")
    row_save(instance=FirearmFactory.build(firearm_id="firearm.new_power"), user=staff, reason="needed")
    return {
        "subject": "policies.firearm firearm.new_power",
        "actor_username": "platform-editor",
        "tenant": None,
        "detail__reason": "needed",
    }


CASES = {
    Kind.LOGIN_SUCCEEDED: login_succeeded,
    Kind.LOGIN_FAILED: login_failed,
    Kind.LOCKED_OUT: locked_out,
    Kind.UNLOCKED: unlocked,
    Kind.TOKEN_CREATED: token_created,
    Kind.TOKEN_REVOKED: token_revoked,
    Kind.GROUP_CHANGED: group_changed,
    Kind.PERMISSION_CHANGED: permission_changed,
    Kind.MEMBERSHIP_CHANGED: membership_changed,
    Kind.ROLE_CHANGED: role_changed,
    Kind.PLATFORM_WRITE: platform_write,
}


def test_every_kind_has_a_case():
    assert sorted(CASES) == sorted(Kind.values)


@pytest.mark.parametrize("kind", list(CASES), ids=str)
def test_each_kind_of_event_is_recorded_where_it_happens(kind):
    expected = CASES[kind]()
    assert SecurityEvent.objects.filter(kind=kind, **expected).exists(), (
        expected, list(SecurityEvent.objects.filter(kind=kind).values()),
    )


# -- details of the writers ------------------------------------------------------------------------------


def test_a_sign_in_with_a_bad_password_records_the_name_tried_even_for_no_such_user():
    Client(REMOTE_ADDR=ADDRESS).post(LOGIN, {"username": "no-such\u200buser", "password": "x"})
    (event,) = events(Kind.LOGIN_FAILED)
    assert (event.subject, event.actor, event.ip) == ("no-such\ufffduser", None, ADDRESS)


def test_an_expired_token_deleted_on_use_is_recorded_as_expired():
    user = UserFactory(username="alice", perms=["policies.view_firearm"])
    token = api_token(user, expiry=timedelta(seconds=-1))
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/firearms/").status_code == 401
    (event,) = events(Kind.TOKEN_REVOKED)
    assert event.detail["reason"] == "expired" and event.subject.endswith("of alice")


def test_a_token_deleted_in_the_admin_is_revoked_by_whoever_deleted_it():
    token = api_token_row(UserFactory(username="alice"))
    root = SuperuserFactory(username="root")
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(root)
    response = client.post(f"/admin/knox/authtoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AuthToken.objects.exists()
    (event,) = events(Kind.TOKEN_REVOKED)
    assert (event.actor, event.ip, event.detail["reason"]) == (root, ADDRESS, "revoked")


def test_changes_made_in_the_admin_name_their_actor_and_address():
    admin = SuperuserFactory(username="root")
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(admin)
    response = client.post("/admin/auth/group/add/", {"name": "auditors", "permissions": []})
    assert response.status_code == 302
    (event,) = events(Kind.GROUP_CHANGED, subject="group auditors")
    assert (event.actor, event.ip, event.detail) == (admin, ADDRESS, {"created": True})


def test_staff_and_superuser_flags_are_permission_changes():
    user = UserFactory(username="alice")
    user.is_staff = user.is_superuser = True
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])  # a sign-in's save changes no flag
    (event,) = events(Kind.PERMISSION_CHANGED, subject="user alice")
    assert event.detail == {"is_staff": [False, True], "is_superuser": [False, True]}


def test_removing_and_clearing_groups_and_the_reverse_side_are_recorded():
    alice, bob, group = UserFactory(username="alice"), UserFactory(username="bob"), GroupFactory(name="ops")
    group.user_set.add(alice, bob)
    alice.groups.remove(group)
    bob.groups.clear()
    details = [(e.subject, e.detail) for e in events(Kind.GROUP_CHANGED, subject__startswith="user")]
    assert details == [
        ("user alice", {"added_groups": ["ops"]}),
        ("user bob", {"added_groups": ["ops"]}),
        ("user alice", {"removed_groups": ["ops"]}),
        ("user bob", {"removed_groups": ["ops"]}),
    ]


def test_a_membership_removed_with_its_tenant_leaves_an_event_without_a_dangling_tenant():
    membership = MembershipFactory(tenant=TenantFactory(slug="gone"), user=UserFactory(username="alice"))
    membership.tenant.delete()  # cascades to the membership
    removed = events(Kind.MEMBERSHIP_CHANGED, detail__removed=True)
    assert [(e.subject, e.tenant_id) for e in removed] == [("user alice in gone", None)]


def test_a_firearm_import_is_one_platform_write():
    importer = make_importer()
    run_import(FirearmResource(user=importer), FIREARMS, dry_run=True, file_name="firearms.tsv")
    assert not events(Kind.PLATFORM_WRITE)  # a preview writes nothing, its event neither
    run_import(FirearmResource(user=importer), FIREARMS, dry_run=False, file_name="firearms.tsv")
    (event,) = events(Kind.PLATFORM_WRITE)
    assert event.subject == "policies.firearm" and event.actor == importer
    assert event.detail == {
        "action": "import", "file": "firearms.tsv", "new": 3, "update": 0, "delete": 0,
        "reason": "imported from TSV firearms.tsv",
    }


def test_tenant_rows_are_not_platform_writes():
    tenant = TenantFactory(slug="acme")
    owner = UserFactory(username="owner", perms=["workbench.add_membership"])
    MembershipFactory(tenant=tenant, user=owner, role="owner")
    row_save(instance=Membership(tenant=tenant, user=UserFactory(username="new"), role="viewer"), user=owner)
    assert not events(Kind.PLATFORM_WRITE)
    assert events(Kind.MEMBERSHIP_CHANGED, subject="user new in acme", actor=owner)


def test_an_environment_load_is_one_platform_write_and_a_repeat_none(tmp_path, monkeypatch):
    seeds, fixtures = tmp_path / "seeds", tmp_path / "fixtures"
    (fixtures / "dev").mkdir(parents=True)
    seeds.mkdir()
    firearm = {"firearm_id": "firearm.external_write", "name": "External write", "severity": "high"}
    (seeds / "10_firearms.json").write_text(json.dumps([{"model": "policies.firearm", "fields": firearm}]))
    tenant = {"model": "workbench.tenant", "fields": {"slug": "acme", "name": "Acme"}}
    (fixtures / "dev" / "dev.json").write_text(json.dumps([tenant]))
    monkeypatch.setattr(loading, "SEEDS_DIR", seeds)
    monkeypatch.setattr(loading, "FIXTURES_DIR", fixtures)
    loading.environment_load(name="dev")
    loading.environment_load(name="dev")
    (event,) = events(Kind.PLATFORM_WRITE)
    assert (event.subject, event.detail["action"], event.detail["changes"]) == ("environment dev", "load", 2)
    assert Firearm.objects.count() == 1


# -- in the transaction of the change ----------------------------------------------------------------------


def _rolled_back(change):
    before = SecurityEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        change()
        assert SecurityEvent.objects.count() > before  # recorded, inside the transaction
        raise RuntimeError("the rest of the change failed")
    return SecurityEvent.objects.count() - before


def test_a_rolled_back_change_leaves_no_event():
    user, group = UserFactory(username="alice"), GroupFactory(name="ops")
    tenant = TenantFactory(slug="acme")
    staff = platform_staff(["policies.add_firearm"], username="platform-editor")
    assert _rolled_back(lambda: user.groups.add(group)) == 0
    permission = Permission.objects.get(codename="change_firearm")
    assert _rolled_back(lambda: Group.objects.get(name="ops").permissions.add(permission)) == 0
    assert _rolled_back(lambda: MembershipFactory(tenant=tenant, user=user)) == 0
    assert _rolled_back(lambda: api_token(user)) == 0
    assert _rolled_back(lambda: row_save(instance=FirearmFactory.build(), user=staff)) == 0


def test_a_refused_platform_write_leaves_no_event():
    not_staff = UserFactory(username="nobody", perms=["policies.add_firearm"])
    with pytest.raises(Exception, match="platform"):
        row_save(instance=FirearmFactory.build(), user=not_staff)
    assert not events(Kind.PLATFORM_WRITE)
