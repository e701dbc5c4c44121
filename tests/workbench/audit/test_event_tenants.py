"""Sign-ins and API tokens of a member of exactly one tenant belong to that tenant (its members read
them); of a member of none or several, to nobody's tenant (auditors and platform staff read them)."""

import pytest
from django.test import Client

from tests.workbench.factories import MembershipFactory, StaffFactory, TenantFactory, api_token_row
from workbench.models import SecurityEvent
from workbench.selectors.audit import security_events_visible_to
from workbench.services.audit import Kind

pytestmark = pytest.mark.django_db


def sign_in(username):
    response = Client().post("/admin/login/", {"username": username, "password": "pw-for-tests"})
    assert response.status_code == 302


@pytest.mark.parametrize("tenants", [0, 1, 2])
def test_sign_ins_and_tokens_carry_the_tenant_of_a_single_tenant_member(tenants):
    alice = StaffFactory(username="alice")
    memberships = [MembershipFactory(user=alice, tenant=TenantFactory()) for _ in range(tenants)]
    expected = memberships[0].tenant if tenants == 1 else None
    sign_in("alice")
    api_token_row(alice).delete()
    for kind in (Kind.LOGIN_SUCCEEDED, Kind.TOKEN_CREATED, Kind.TOKEN_REVOKED):
        assert SecurityEvent.objects.get(kind=kind).tenant == expected, kind


def test_a_fellow_member_reads_the_sign_in_and_another_tenant_does_not():
    acme, other = TenantFactory(slug="acme"), TenantFactory(slug="other")
    MembershipFactory(user=StaffFactory(username="alice"), tenant=acme)
    colleague = StaffFactory(username="colleague")
    MembershipFactory(user=colleague, tenant=acme)
    stranger = StaffFactory(username="stranger")
    MembershipFactory(user=stranger, tenant=other)
    sign_in("alice")
    assert security_events_visible_to(colleague).filter(kind=Kind.LOGIN_SUCCEEDED, subject="alice").exists()
    assert not security_events_visible_to(stranger).filter(subject="alice").exists()
