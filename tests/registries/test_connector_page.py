"""The connector's admin page (issue 14, item 9): its versions, each scope of the latest version with its
firearm decision and KPIs (queries that do not grow with the scopes), and "Start next version", which
opens a draft from the live version through the draft service and its ownership rule."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin_helpers import logged_in
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, KpiToolBindingFactory
from tests.registries.factories import published_connector
from tests.workbench.factories import MembershipFactory, StaffFactory, TenantFactory
from workbench.admin.drafts.views import draft_admin_url
from workbench.models import Membership, WorkbenchDraft

pytestmark = pytest.mark.django_db

PAGE_PERMS = [
    "registries.view_connector", "registries.view_scope", "registries.view_componentspec",
    "policies.view_firearm", "policies.view_kpidefinition",
]
DRAFT_PERMS = [
    "workbench.add_workbenchdraft", "workbench.view_workbenchdraft", "workbench.change_workbenchdraft"
]


def page_url(connector):
    return reverse("admin:registries_connector_change", args=[connector.pk])


def add_url():
    return reverse("admin:workbench_workbenchdraft_add")


@pytest.fixture
def acme():
    return TenantFactory(slug="acme")


def member(tenant, role=Membership.Role.EDITOR, perms=(*PAGE_PERMS, *DRAFT_PERMS)):
    user = StaffFactory(perms=list(perms))
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


def github_with_policy(owner, scopes=("admin_write", "read_public")):
    github = published_connector("github", ("1.0.0", "1.1.0"), scopes=scopes, owner=owner)
    firearm = FirearmFactory(firearm_id="firearm.external_write")
    FirearmBindingFactory(action_name="github:admin_write", firearm=firearm)
    KpiToolBindingFactory(action_name="github:admin_write", kpi__kpi_id="kpi.change_failure_rate")
    KpiToolBindingFactory(action_name="github:admin_write", kpi__kpi_id="kpi.lead_time")
    return github


def test_the_page_lists_versions_and_each_scope_with_its_firearm_and_kpis(client, acme):
    github = github_with_policy(acme)
    logged_in(client, member(acme))
    html = client.get(page_url(github)).content.decode()
    for spec in github.versions.all():
        link = reverse("admin:registries_componentspec_change", args=[spec.pk])
        assert f'<a href="{link}">{spec.version}</a>' in html
    table = html[html.index('<table class="connector-scopes">'):]
    table = table[: table.index("</table>")]
    admin_write = table[table.index(">admin_write<"): table.index(">read_public<")]
    read_public = table[table.index(">read_public<"):]
    assert "firearm.external_write</a> (high)" in admin_write
    assert "kpi.change_failure_rate</a> (increases)" in admin_write and "kpi.lead_time</a>" in admin_write
    assert "NONE" in read_public and "kpi." not in read_public
    assert table.count("<tr>") == 3  # the header and the latest version's two scopes, not the older ones


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.OWNER])
def test_start_next_version_opens_a_draft_from_the_live_version(client, acme, role):
    github = github_with_policy(acme)
    user = member(acme, role)
    logged_in(client, user)
    html = client.get(page_url(github)).content.decode()
    assert "Start next version" in html and f'action="{add_url()}"' in html
    response = client.post(add_url(), {"start_next_version": "github", "tenant": acme.pk})
    draft = WorkbenchDraft.objects.get()
    assert response.status_code == 302 and response["Location"] == draft_admin_url("change", draft.pk)
    assert (draft.tenant, draft.owner, draft.connector_id, draft.version) == (acme, user, "github", "1.1.1")
    assert draft.policy_snapshot["firearms"] == {"admin_write": "firearm.external_write", "read_public": None}
    assert draft.policy_snapshot["kpis"] == {"admin_write": ["kpi.change_failure_rate", "kpi.lead_time"]}


def test_a_second_start_opens_another_draft_as_the_service_does(client, acme):
    """draft_create does not refuse a connector that already has an open draft: each start is a draft."""
    github = github_with_policy(acme)
    logged_in(client, member(acme))
    for _ in range(2):
        client.post(add_url(), {"start_next_version": "github", "tenant": acme.pk})
    assert WorkbenchDraft.objects.filter(connector_id=github.connector_id).count() == 2


def test_no_button_for_a_viewer_or_another_tenant_and_the_service_refuses_them(client, acme):
    github = github_with_policy(acme)
    other = TenantFactory(slug="globex")
    cases = [
        (member(acme, Membership.Role.VIEWER), acme, "where you are an owner or editor"),
        (member(other), other, "belongs to tenant 'acme'"),
        (member(other), acme, "where you are an owner or editor"),
    ]
    for user, tenant, said in cases:
        logged_in(client, user)
        assert "Start next version" not in client.get(page_url(github)).content.decode()
        response = client.post(add_url(), {"start_next_version": "github", "tenant": tenant.pk})
        assert response.status_code == 302 and response["Location"] == page_url(github)
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        assert said in message, message
    assert not WorkbenchDraft.objects.exists()


def test_no_button_without_the_draft_permission(client, acme):
    github = github_with_policy(acme)
    logged_in(client, member(acme, perms=PAGE_PERMS))
    assert "Start next version" not in client.get(page_url(github)).content.decode()
    assert client.post(add_url(), {"start_next_version": "github", "tenant": acme.pk}).status_code == 403


@pytest.mark.parametrize(
    "connector_id, tenant", [("nope", "1"), ("git\x00hub", "1"), ("github", "1\x00"), ("github", "9" * 40)]
)
def test_hostile_starts_change_nothing_and_are_not_errors(client, acme, connector_id, tenant):
    github_with_policy(acme)
    other = TenantFactory(slug="globex")
    logged_in(client, member(other))  # a writer of one tenant: an unusable tenant falls back to it
    response = client.post(add_url(), {"start_next_version": connector_id, "tenant": tenant})
    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert not WorkbenchDraft.objects.exists()


def test_the_scopes_cost_one_query_per_kind_whatever_their_number(client, acme):
    user = member(acme)
    logged_in(client, user)

    def queries(connector):
        client.get(page_url(connector))  # warm the session and content types
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page_url(connector)).status_code == 200
        return len(captured)

    few = github_with_policy(acme, scopes=("admin_write", "read_public"))
    small = queries(few)
    many = published_connector("slack", ("1.0.0",), scopes=[f"scope_{n}" for n in range(20)], owner=acme)
    for n in range(20):
        FirearmBindingFactory(action_name=f"slack:scope_{n}")
        KpiToolBindingFactory(action_name=f"slack:scope_{n}")
    assert queries(many) == small
