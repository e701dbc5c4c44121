"""create_api_token USERNAME: a token printed once, stored hashed, that authenticates API calls."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.workbench.factories import UserFactory

pytestmark = pytest.mark.django_db


def _create_token(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_token_lists_firearms_and_is_stored_only_hashed():
    UserFactory(username="integrator", perms=["policies.view_firearm"])
    token, message = _create_token("integrator")
    assert "shown only this once" in message
    stored = AuthToken.objects.get(user__username="integrator")
    assert token not in (stored.digest, stored.token_key)
    assert stored.expiry is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/firearms/").status_code == 200


def test_each_run_makes_a_new_token():
    UserFactory(username="integrator")
    assert _create_token("integrator")[0] != _create_token("integrator")[0]
    assert AuthToken.objects.filter(user__username="integrator").count() == 2


def test_expiry_days():
    UserFactory(username="integrator")
    _create_token("integrator", "--expiry-days", "30")
    expiry = AuthToken.objects.get().expiry
    assert timedelta(days=29) < expiry - timezone.now() <= timedelta(days=30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "No user named 'nobody'"),
        (["sleeper"], "inactive"),
        (["integrator", "--expiry-days", "0"], "from 1 to 36500"),
    ],
)
def test_refusals_are_clear(args, message):
    UserFactory(username="integrator")
    UserFactory(username="sleeper", is_active=False)
    with pytest.raises(CommandError, match=message):
        _create_token(*args)
    assert not AuthToken.objects.exists()


def test_expired_token_is_refused():
    user = UserFactory(username="integrator", perms=["policies.view_firearm"])
    instance, token = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/firearms/").status_code == 401
