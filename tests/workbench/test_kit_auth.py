"""workbench.kit.auth: a user's permissions in one query, a request pays only for its own token."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.workbench.factories import GroupFactory, SuperuserFactory, UserFactory, api_token, token_client

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache yet


def test_permissions_given_directly_and_through_groups_are_read_in_one_query():
    user = UserFactory(perms=["policies.view_firearm"])
    group = GroupFactory()
    group.permissions.add(Permission.objects.get(codename="view_connector"))
    user.groups.add(group)
    user = _fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("policies.view_firearm")
        assert user.has_perm("registries.view_connector")
        assert not user.has_perm("policies.change_firearm")
        assert user.get_all_permissions() == {"policies.view_firearm", "registries.view_connector"}
    assert len(queries) == 1


@pytest.mark.parametrize("kind", ["inactive", "superuser"])
def test_inactive_users_hold_nothing_and_superusers_everything(kind):
    if kind == "inactive":
        user = UserFactory(perms=["policies.view_firearm"], is_active=False)
        assert not _fresh(user).has_perm("policies.view_firearm")
    else:
        user = _fresh(SuperuserFactory())
        assert "policies.change_firearm" in user.get_all_permissions()


def test_an_expired_token_is_refused_and_deleted():
    user = UserFactory(perms=["policies.view_firearm"])
    token = api_token(user, expiry=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/firearms/").status_code == 401
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_request_reads_only_its_own_token():
    """knox swept the user's other expired tokens on every request (a query each time); here a token is
    refused (and deleted) when it is presented, and a request costs one token query."""
    user = UserFactory(perms=["policies.view_firearm"])
    api_token(user, expiry=timedelta(seconds=-1))  # another, expired token of the same user
    client = token_client(user)
    client.get("/api/v1/firearms/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/firearms/").status_code == 200
    assert sum('FROM "knox_authtoken"' in query["sql"] for query in queries) == 1
    assert AuthToken.objects.filter(user=user).count() == 2
