"""Unlocking a locked-out account: the users list's action "Unlock selected accounts" (platform staff with
`axes.delete_accessattempt`), the service `account_unlock` it calls, and `create_api_token`, which gives
no token to a locked-out username unless told to unlock it."""

import io

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from tests.workbench.factories import (
    MembershipFactory,
    StaffFactory,
    SuperuserFactory,
    TenantFactory,
    platform_staff,
)
from workbench.kit.refusals import Refusal
from workbench.models.audit import SecurityEvent
from workbench.services.accounts import account_unlock

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"
LIMIT = settings.AXES_FAILURE_LIMIT
USERS = reverse("admin:auth_user_changelist")
UNLOCK_PERMISSION = "axes.delete_accessattempt"


def sign_in(username, password, ip="10.0.0.1"):
    return Client().post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def lock_out(username):
    for number in range(LIMIT):
        # From several addresses: the username is locked, no address is.
        sign_in(username, "wrong", ip=f"10.0.1.{number}")
    assert sign_in(username, PASSWORD, ip="10.0.2.1").status_code == 429


def offered_actions(client):
    response = client.get(USERS)
    assert response.status_code == 200
    form = response.context.get("action_form")
    return {value for value, _ in form.fields["action"].choices if value} if form else set()


def unlock_from_the_admin(client, *users):
    return client.post(
        USERS, {"action": "unlock_selected", "_selected_action": [user.pk for user in users]}, follow=True
    )


def test_a_superuser_unlocks_from_the_users_list_and_the_user_signs_in_again():
    alice = StaffFactory(username="alice")
    bob = StaffFactory(username="bob")
    lock_out("alice")
    admin_client = Client()
    admin_client.force_login(SuperuserFactory(username="root"))
    assert "unlock_selected" in offered_actions(admin_client)

    response = unlock_from_the_admin(admin_client, alice, bob)
    shown = [str(message) for message in response.context["messages"]]
    assert f"alice: unlocked ({LIMIT + 1} failed sign-ins cleared)." in shown
    assert "bob: no failed sign-ins counted; nothing to unlock." in shown
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert sign_in("alice", PASSWORD, ip="10.0.2.1").status_code == 302

    event = SecurityEvent.objects.get(kind="unlocked", subject="alice")
    assert event.actor_username == "root"
    assert event.detail == {"failures_cleared": LIMIT + 1}


def test_platform_staff_need_the_permission_to_unlock():
    lock_out("alice")
    alice = StaffFactory(username="alice")
    without = platform_staff(["auth.view_user", "auth.change_user"])
    client = Client()
    client.force_login(without)
    assert "unlock_selected" not in offered_actions(client)
    # Posting the action anyway unlocks nothing.
    unlock_from_the_admin(client, alice)
    assert AccessAttempt.objects.filter(username="alice").exists()

    holder = platform_staff(["auth.view_user", UNLOCK_PERMISSION])
    client.force_login(holder)
    assert "unlock_selected" in offered_actions(client)
    unlock_from_the_admin(client, alice)
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_a_tenant_owner_holding_the_permission_is_not_platform_staff_and_unlocks_nothing():
    lock_out("alice")
    owner = StaffFactory(perms=["auth.view_user", UNLOCK_PERMISSION])
    MembershipFactory(user=owner, tenant=TenantFactory(slug="acme"), role="owner")
    client = Client()
    client.force_login(owner)
    assert "unlock_selected" not in offered_actions(client)
    with pytest.raises(Refusal) as refused:
        account_unlock(user=owner, username="alice")
    assert (refused.value.status, refused.value.code) == (403, "platform_scope")
    assert AccessAttempt.objects.filter(username="alice").exists()
    assert not SecurityEvent.objects.filter(kind="unlocked").exists()


@pytest.mark.parametrize("username", ["", "x" * 151, "a\x00b", None])
def test_a_username_that_cannot_be_one_is_refused_on_its_field(username):
    with pytest.raises(Refusal) as refused:
        account_unlock(user=SuperuserFactory(), username=username)
    assert refused.value.status == 400
    assert refused.value.errors[0]["field"] == "username"


def _create_token(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_api_token_refuses_a_locked_out_user_and_says_so():
    StaffFactory(username="alice")
    lock_out("alice")
    with pytest.raises(CommandError) as refused:
        _create_token("alice")
    assert "locked out" in str(refused.value) and "--unlock" in str(refused.value)
    assert refused.value.returncode == 3
    assert not AuthToken.objects.exists()
    assert AccessAttempt.objects.filter(username="alice").exists()


def test_create_api_token_with_unlock_clears_the_lockout_records_it_and_creates_the_token():
    StaffFactory(username="alice")
    lock_out("alice")
    token, message = _create_token("alice", "--unlock")
    assert token and f"Unlocked alice ({LIMIT + 1} failed sign-ins cleared)." in message
    assert AuthToken.objects.filter(user__username="alice").count() == 1
    assert not AccessAttempt.objects.filter(username="alice").exists()
    event = SecurityEvent.objects.get(kind="unlocked", subject="alice")
    assert event.actor is None and event.actor_username == "system"


def test_create_api_token_for_a_user_below_the_limit_needs_no_unlock():
    StaffFactory(username="alice")
    sign_in("alice", "wrong")
    token, _ = _create_token("alice")
    assert token
    assert AccessAttempt.objects.filter(username="alice").exists()
