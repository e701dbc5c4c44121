"""Fixtures of the policy matrix tests: tenant acme, an editor with the sheet permissions, and github and
slack published by that editor."""

import pytest

from tests.policies.factories import FirearmFactory
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory
from workbench.models import Membership

from .kit import SHEETS_PERMS, publish


@pytest.fixture
def tenant():
    return TenantFactory(slug="acme")


@pytest.fixture
def editor(tenant):
    user = UserFactory(username="sheets", is_staff=True, perms=SHEETS_PERMS)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def live(editor, tenant):
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.data_export")
    publish(editor, tenant, "github", "1.2.0", {"admin_write": "firearm.external_write", "read_public": None})
    publish(editor, tenant, "slack", "2.0.0", {"post_message": None})
    return editor
