from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.utils import timezone

from policies.models import Firearm, FirearmGrant
from tests.admin_helpers import action_names, logged_in, staff
from tests.policies.factories import FirearmFactory, FirearmGrantFactory
from tests.workbench.factories import (
    GroupFactory,
    MembershipFactory,
    SuperuserFactory,
    TenantFactory,
    platform_staff,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/policies/firearmgrant/"
ADD = "/admin/policies/firearmgrant/add/"


@pytest.fixture
def granter(client):
    user = staff(["policies.add_firearmgrant", "policies.view_firearmgrant", "policies.change_firearmgrant"])
    client.force_login(user)
    return user


def member(tenant, **kwargs):
    """A user who belongs to `tenant` (a user grant goes to a member of the grant's tenant)."""
    return MembershipFactory(tenant=tenant, **kwargs).user


def grant_form(firearm, within=None, **principal):
    """The add form for a grant within the tenant `within` (a tenant grant: the tenant itself)."""
    kind = next(iter(principal))
    tenant = principal["tenant"] if kind == "tenant" else within
    data = {"firearm": firearm.pk, "reason": "On call this week", "expires_at_0": "", "expires_at_1": "",
            "user": "", "group": "", "tenant": tenant.pk if tenant else ""}
    data.update({key: value.pk for key, value in principal.items()})
    data["principal_type"] = kind
    return data


@pytest.mark.parametrize("principal", ["user", "group", "tenant"])
def test_grant_added_in_admin_goes_through_the_service(client, granter, principal):
    firearm = FirearmFactory()
    tenant = TenantFactory()
    target = {
        "user": lambda: member(tenant), "group": GroupFactory, "tenant": lambda: tenant,
    }[principal]()

    response = client.post(ADD, grant_form(firearm, tenant, **{principal: target}))

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    grant = FirearmGrant.objects.get()
    assert grant.principal == target
    assert grant.tenant == tenant
    assert grant.granted_by == granter
    record = grant.history.latest()
    assert record.history_user == granter
    assert record.history_change_reason == "granted: On call this week"


def test_add_form_is_prefilled_from_the_firearm_page_link(client, granter):
    firearm = FirearmFactory()
    page = client.get(f"{ADD}?firearm={firearm.pk}")
    assert page.context["adminform"].form.initial["firearm"] == str(firearm.pk)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"user": ""}, "user"),
        ({"group": "GROUP"}, "group"),
        ({"expires_at_0": "2001-01-01", "expires_at_1": "00:00:00"}, "expires_at"),
        ({"reason": ""}, "reason"),
    ],
)
def test_invalid_grants_are_form_errors_not_server_errors(client, granter, change, field):
    firearm = FirearmFactory()
    tenant = TenantFactory()
    data = grant_form(firearm, tenant, user=member(tenant))
    data.update({key: GroupFactory().pk if value == "GROUP" else value for key, value in change.items()})

    response = client.post(ADD, data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not FirearmGrant.objects.exists()


def test_existing_grant_is_read_only_and_never_deleted(client):
    grant = FirearmGrantFactory(reason="Original")
    logged_in(client, SuperuserFactory())
    url = f"{LIST}{grant.pk}/"
    page = client.get(f"{url}change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(f"{url}change/", {"reason": "Edited"}).status_code == 403
    assert client.get(f"{url}delete/").status_code == 403
    assert FirearmGrant.objects.get(pk=grant.pk).reason == "Original"


def test_list_shows_and_filters_by_status(client):
    active = FirearmGrantFactory()
    revoked = FirearmGrantFactory(revoked_at=timezone.now(), revoke_reason="left the team")
    expired = FirearmGrantFactory(expires_at=timezone.now() - timedelta(days=1))
    critical = FirearmFactory(severity=Firearm.Severity.CRITICAL)
    awaiting = FirearmGrantFactory(firearm=critical, needs_approval=True)
    # Grants are rows of their tenants: an auditor lists every tenant's.
    logged_in(client, platform_staff(is_superuser=True))

    statuses = [("active", "active", active), ("revoked", "revoked", revoked),
                ("expired", "expired", expired), ("awaiting", "awaiting approval", awaiting)]
    for status, shown, grant in statuses:
        response = client.get(LIST, {"status": status})
        assert [g.pk for g in response.context["cl"].result_list] == [grant.pk]
        assert f'<td class="field-status">{shown}</td>' in response.content.decode()


def test_a_superuser_who_is_no_auditor_lists_only_their_tenants_grants(client):
    mine = FirearmGrantFactory()
    FirearmGrantFactory()
    user = SuperuserFactory()
    MembershipFactory(tenant=mine.tenant, user=user)
    logged_in(client, user)
    assert [g.pk for g in client.get(LIST).context["cl"].result_list] == [mine.pk]


def test_revoke_action_asks_for_a_reason_then_revokes(client, granter):
    grants = FirearmGrantFactory.create_batch(2)
    selected = {"action": "revoke_selected", helpers.ACTION_CHECKBOX_NAME: [g.pk for g in grants]}

    page = client.post(LIST, selected)
    assert page.status_code == 200 and "reason" in page.context["form"].fields

    assert client.post(LIST, {**selected, "confirm": "yes", "reason": ""}).status_code == 200
    assert not FirearmGrant.objects.filter(revoked_at__isnull=False).exists()

    done = client.post(LIST, {**selected, "confirm": "yes", "reason": "Rotation ended"}, follow=True)

    assert "Revoked 2 grant(s)." in done.content.decode()
    for grant in FirearmGrant.objects.all():
        assert (grant.revoked_by, grant.revoke_reason) == (granter, "Rotation ended")
        assert grant.history.latest().history_user == granter


def test_revoking_an_already_revoked_grant_is_reported_not_a_crash(client, granter):
    revoked = FirearmGrantFactory(revoked_at=timezone.now(), revoke_reason="earlier")
    active = FirearmGrantFactory()
    data = {"action": "revoke_selected", helpers.ACTION_CHECKBOX_NAME: [revoked.pk, active.pk],
            "confirm": "yes", "reason": "cleanup"}

    page = client.post(LIST, data, follow=True)

    html = page.content.decode()
    assert "already revoked" in html and "Revoked 1 grant(s)." in html
    assert FirearmGrant.objects.get(pk=revoked.pk).revoke_reason == "earlier"


def test_revoke_needs_the_change_permission(client):
    FirearmGrantFactory()
    logged_in(client, staff(["policies.view_firearmgrant", "policies.add_firearmgrant"]))
    assert "revoke_selected" not in action_names(client.get(LIST))
