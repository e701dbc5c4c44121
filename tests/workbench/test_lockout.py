"""Login throttling (django-axes): failures per username and per IP address lock the admin's sign-in for
the cool-off, the right password included; the lockout page says why (429, Retry-After); the cool-off
ends by itself; a success resets its username's count only."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.workbench.factories import StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests"  # what tests.workbench.factories gives every user
LOGIN = "/admin/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
MESSAGE = (
    f"Too many failed attempts; try again in {settings.WORKBENCH_LOGIN_COOLOFF_MINUTES} minutes "
    "or ask an administrator to unlock it."
)


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def signed_in(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


def locked_out(response):
    return response.status_code == 429 and MESSAGE in response.content.decode()


def test_the_limit_is_five_failures_in_fifteen_minutes_by_default():
    assert (LIMIT, settings.AXES_COOLOFF_TIME) == (5, timedelta(minutes=15))
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_failures_across_two_sessions_and_addresses_lock_the_username_and_the_right_password_is_refused():
    StaffFactory(username="alice")
    first, second = Client(), Client()
    for attempt in range(LIMIT - 1):
        client, ip = (first, "10.0.0.1") if attempt % 2 else (second, "10.0.0.2")
        response = sign_in(client, "alice", "wrong", ip=ip)
        assert response.status_code == 200 and not locked_out(response)
    assert locked_out(sign_in(first, "alice", "wrong", ip="10.0.0.3"))

    # The right password, from a third session and another address, during the cool-off.
    response = sign_in(Client(), "alice", PASSWORD, ip="10.0.0.9")
    assert locked_out(response)
    assert response["Retry-After"] == str(15 * 60)
    assert "_auth_user_id" not in Client().session
    # The page is the admin's sign-in form, ready for another username.
    page = response.content.decode()
    assert 'id="login-form"' in page and 'name="password"' in page and 'value="alice"' in page


def test_other_usernames_from_other_addresses_are_not_locked_by_someone_elses_lockout():
    StaffFactory(username="alice")
    StaffFactory(username="bob")
    for _ in range(LIMIT):
        sign_in(Client(), "alice", "wrong", ip="10.0.0.1")
    assert signed_in(sign_in(Client(), "bob", PASSWORD, ip="10.0.0.2"))


def test_failures_from_one_address_for_many_usernames_lock_that_address():
    StaffFactory(username="alice")
    for number in range(LIMIT):
        response = sign_in(Client(), f"guess-{number}", "wrong", ip="203.0.113.7")
    assert locked_out(response)
    # Even a real user with the right password is refused from that address ...
    assert locked_out(sign_in(Client(), "alice", PASSWORD, ip="203.0.113.7"))
    # ... and signs in from any other.
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip="203.0.113.8"))


def test_the_lockout_ends_after_the_cool_off_without_waiting():
    StaffFactory(username="alice")
    for _ in range(LIMIT):
        sign_in(Client(), "alice", "wrong")
    assert locked_out(sign_in(Client(), "alice", PASSWORD))
    # Move the recorded attempts back past the cool-off instead of sleeping through it.
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert signed_in(sign_in(Client(), "alice", PASSWORD))
    assert not AccessAttempt.objects.exists()


def test_an_attempt_during_the_lockout_restarts_the_cool_off():
    StaffFactory(username="alice")
    for _ in range(LIMIT):
        sign_in(Client(), "alice", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert locked_out(sign_in(Client(), "alice", PASSWORD))
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert locked_out(sign_in(Client(), "alice", PASSWORD))


def test_a_success_resets_its_own_usernames_count_only():
    StaffFactory(username="alice")
    StaffFactory(username="mallory")
    for _ in range(LIMIT - 2):
        sign_in(Client(), "alice", "wrong", ip="10.0.0.5")
    # A typo and then the right password: mallory's count starts again.
    sign_in(Client(), "mallory", "wrong", ip="10.0.0.5")
    assert signed_in(sign_in(Client(), "mallory", PASSWORD, ip="10.0.0.5"))
    assert not AccessAttempt.objects.filter(username="mallory").exists()
    # Mallory signing in between guesses at alice's password, from the same address, does not reset
    # alice's count (axes' own reset would clear every count of the address).
    assert not locked_out(sign_in(Client(), "alice", "wrong", ip="10.0.0.6"))
    assert locked_out(sign_in(Client(), "alice", "wrong", ip="10.0.0.6"))


def test_hostile_usernames_are_refused_or_counted_never_an_error():
    StaffFactory(username="alice")
    bodies = ["username=a%00b", "username=%ED%A0%80", "username=" + "x" * 5000, "username=", "password=x"]
    for body in bodies:
        response = Client().post(
            LOGIN, f"{body}&password=wrong", content_type="application/x-www-form-urlencoded",
            REMOTE_ADDR="10.0.0.7",
        )
        assert response.status_code in (200, 429)
    # The address is locked now (the bodies that reached a password check counted), alice elsewhere is not.
    assert signed_in(sign_in(Client(), "alice", PASSWORD, ip="10.0.0.8"))


def test_the_counted_username_is_bounded_and_storable():
    from workbench.kit.lockout import client_username

    assert client_username(None, {"username": "x" * 5000}) == "x" * 150
    assert client_username(None, {"username": "a\x00b"}) == "a\ufffdb"
    assert client_username(None, {"username": "\ud800"}) == "?"
    assert client_username(None, {"password": "x"}) is None


def test_no_api_path_takes_a_password():
    """The API authenticates by token (knox: no password) or the admin's session; nothing there calls
    authenticate() with a password, so the admin's sign-in is the one place throttled."""
    from base64 import b64encode

    StaffFactory(username="alice", perms=["policies.view_firearm"])
    api = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert api == [
        "workbench.kit.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ]
    basic = b64encode(f"alice:{PASSWORD}".encode()).decode()
    response = Client().get("/api/v1/firearms/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code in (401, 403)
    # No browsable-API login page (rest_framework.urls) is mounted.
    assert Client().post("/api-auth/login/", {"username": "alice", "password": PASSWORD}).status_code == 404
