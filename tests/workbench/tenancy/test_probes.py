"""The probes that opened the tenancy issue, on the dev environment with a second tenant whose owner holds
the same model permissions (the dev groups): each is refused, through the API, the admin and the TSV
import alike, and changes nothing. The demo editor still works end to end in its own tenant."""

import io

import pytest
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from policies.models import BudgetPolicy, Firearm, FirearmBinding, FirearmGrant, StrategyLock
from registries.models import Connector, ToolReceipt
from registries.services import connector_transfer
from tests.workbench.drafts_admin_kit import walk_in_admin
from tests.workbench.factories import (
    MembershipFactory,
    StaffFactory,
    TenantFactory,
    api_walk_to,
    draft_spec,
    token_client,
    walk_to,
)
from workbench.exchange import IMPORTS
from workbench.kit.access import SYSTEM
from workbench.kit.exchange.importing import run_import
from workbench.kit.refusals import Refusal
from workbench.models import Membership, WorkbenchDraft
from workbench.services.drafts import draft_create, draft_publish, draft_update, draft_validate
from workbench.services.environments import environment_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev():
    environment_load(name="dev", allow_demo_users=True)


@pytest.fixture
def owner_b(dev):
    """The owner of tenant beta, in the same groups as the demo editor (editors and release managers)."""
    user = StaffFactory(username="owner-b")
    user.groups.set(Group.objects.filter(name__in=["workbench-editors", "release-managers"]))
    MembershipFactory(tenant=TenantFactory(slug="beta"), user=user, role=Membership.Role.OWNER)
    return user


def code(response):
    return response.status_code, response.json().get("code")


def test_another_tenants_budget_can_be_neither_changed_nor_created(owner_b, client):
    api = token_client(owner_b)
    assert code(api.patch("/api/v1/budgets/dev-acme-daily/", {"limit": "0"}, format="json"))[0] == 404
    created = api.post(
        "/api/v1/budgets/",
        {"budget_id": "for-acme", "tenant": "acme", "limit": "0", "period": "day"},
        format="json",
    )
    assert code(created) == (403, "tenant_scope")
    # The admin: acme's budget does not exist for them; an add naming acme is refused on the form.
    budget = BudgetPolicy.objects.get(budget_id="dev-acme-daily")
    client.force_login(owner_b)
    assert client.get(f"/admin/policies/budgetpolicy/{budget.pk}/change/").status_code == 302
    added = client.post(
        "/admin/policies/budgetpolicy/add/",
        {
            "budget_id": "for-acme-2",
            "tenant": budget.tenant_id,
            "period": "day",
            "limit": "0",
            "unit": "USD",
            "active": "on",
        },
    )
    assert added.status_code == 200 and "tenant" in added.context["adminform"].form.errors
    assert BudgetPolicy.objects.get(budget_id="dev-acme-daily").limit > 0
    assert not BudgetPolicy.objects.filter(budget_id__startswith="for-acme").exists()


def test_nobody_grants_a_firearm_to_themself_or_to_another_tenant(owner_b, client):
    api = token_client(owner_b)
    self_grant = {
        "firearm": "firearm.money_movement",
        "tenant": "beta",
        "principal_type": "user",
        "user": "owner-b",
        "reason": "mine",
    }
    to_acme = {
        "firearm": "firearm.destructive_op",
        "tenant": "acme",
        "principal_type": "tenant",
        "reason": "theirs",
    }
    assert code(api.post("/api/v1/firearm-grants/", self_grant, format="json")) == (403, "self_grant")
    assert code(api.post("/api/v1/firearm-grants/", to_acme, format="json")) == (403, "tenant_scope")
    # The admin's add form says the same, on the fields.
    client.force_login(owner_b)
    form = {"firearm": "", "tenant": "", "principal_type": "user", "user": owner_b.pk, "reason": "mine"}
    form["firearm"] = Firearm.objects.get(firearm_id="firearm.money_movement").pk
    form["tenant"] = Membership.objects.get(user=owner_b).tenant_id
    page = client.post("/admin/policies/firearmgrant/add/", form)
    assert page.status_code == 200 and "You would hold this grant yourself" in page.content.decode()
    # A TSV import of both rows is refused whole, naming line and column.
    text = (
        "firearm_id\ttenant\tprincipal_type\tprincipal\treason\n"
        "firearm.money_movement\tbeta\tuser\towner-b\tmine\n"
        "firearm.destructive_op\tacme\ttenant\tacme\ttheirs\n"
    )
    resource = IMPORTS["firearm-grants"](user=owner_b)
    report = run_import(resource, text, dry_run=False)
    assert not report.ok
    errors = {(row.line, column) for row in report.rows for column, _ in row.errors}
    assert errors == {(2, "principal"), (3, "tenant")}
    assert not FirearmGrant.objects.filter(reason__in=["mine", "theirs"]).exists()


def test_a_tenant_owner_cannot_engage_the_platform_wide_lock(owner_b, client):
    response = token_client(owner_b).post(
        "/api/v1/strategy-locks/release-freeze/engage/", {"reason": "mine now"}, format="json"
    )
    assert code(response) == (403, "platform_scope")
    client.force_login(owner_b)
    lock = StrategyLock.objects.get(name="release-freeze")
    form = client.get("/admin/policies/strategylock/").context["action_form"]
    assert form is None or "engage_selected" not in dict(form.fields["action"].choices)
    client.post(
        "/admin/policies/strategylock/",
        {
            "action": "engage_selected",
            helpers.ACTION_CHECKBOX_NAME: [lock.pk],
            "confirm": "yes",
            "reason": "x",
        },
    )
    assert StrategyLock.objects.get(name="release-freeze").engaged is False


def test_another_tenants_connector_is_neither_drafted_nor_published(owner_b):
    github = Connector.objects.get(connector_id="github")
    created = token_client(owner_b).post(
        "/api/v1/drafts/", {"tenant": "beta", "connector_id": "github"}, format="json"
    )
    assert code(created) == (403, "not_connector_owner")
    # A draft opened while beta owned github is refused at publish once github is the platform's again.
    beta = Membership.objects.get(user=owner_b).tenant
    platform = github.owner
    connector_transfer(connector=github, tenant=beta, user=SYSTEM, reason="lend")
    draft = draft_create(tenant=beta, user=owner_b, connector_id="github")
    policy = {**draft.policy_snapshot, "firearms": dict.fromkeys(draft.policy_snapshot["firearms"])}
    draft = draft_update(
        draft_id=draft.pk, user=owner_b, base_revision=1, changes={"policy_snapshot": policy}
    )
    walk_to(draft, owner_b)
    draft = draft_validate(draft_id=draft.pk, user=owner_b)
    connector_transfer(connector=github, tenant=platform, user=SYSTEM, reason="back")
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=owner_b)
    assert (refused.value.status, refused.value.code) == (403, "not_connector_owner")
    assert FirearmBinding.objects.filter(action_name="github:admin_write").exists()
    assert WorkbenchDraft.objects.get(pk=draft.pk).status == "draft"
    transfers = github.history.filter(history_change_reason__startswith="owner")
    assert [row.history_change_reason for row in transfers.order_by("history_id")] == [
        "owner workbench -> beta: lend",
        "owner beta -> workbench: back",
    ]


def test_live_bindings_change_only_through_publish(owner_b, tmp_path):
    api = token_client(owner_b)
    patched = api.patch(
        "/api/v1/firearm-bindings/github:admin_write/", {"firearm": "firearm.data_export"}, format="json"
    )
    created = api.post(
        "/api/v1/firearm-bindings/",
        {"action_name": "nowhere:scope", "firearm": "firearm.data_export"},
        format="json",
    )
    assert code(patched) == (405, "method_not_allowed") and code(created) == (405, "method_not_allowed")
    # Not even a load creates a binding for a connector or a tool that does not exist.
    fixture = tmp_path / "binding.json"
    fixture.write_text(
        '[{"model": "policies.firearmbinding", "fields": {"action_name": "nowhere:scope", '
        '"firearm": ["firearm.data_export"]}}]'
    )
    with pytest.raises(Refusal) as refused:
        environment_load(name=str(fixture))
    assert "No published connector 'nowhere' has a scope 'scope'" in refused.value.detail
    assert FirearmBinding.objects.get(action_name="github:admin_write").firearm.firearm_id == (
        "firearm.external_write"
    )


def test_another_tenants_receipts_and_usage_stay_hidden_in_the_admin(owner_b, client):
    demo = Membership.objects.get(user__username="demo-editor").user
    invoked = token_client(demo).post(
        "/api/v1/tools/os.create_task/invoke/",
        {"call_id": "probe-1", "input": {"title": "Secret plan"}},
        format="json",
    )
    assert invoked.status_code == 200, invoked.json()
    receipt = ToolReceipt.objects.get(call_id="probe-1")
    client.force_login(owner_b)
    assert client.get("/admin/registries/toolreceipt/").context["cl"].result_count == 0
    assert client.get("/admin/policies/usageevent/").context["cl"].result_count == 0
    assert client.get(f"/admin/registries/toolreceipt/{receipt.pk}/change/").status_code == 302
    assert "Secret plan" not in client.get("/admin/registries/toolreceipt/").content.decode()
    assert token_client(owner_b).get(f"/api/v1/receipts/{receipt.uid}/").status_code == 404


def test_the_demo_editor_creates_validates_publishes_and_invokes_in_its_tenant(dev, client):
    demo = Membership.objects.get(user__username="demo-editor").user
    api = token_client(demo)
    spec = draft_spec("notes", "1.0.0")
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    draft = api.post(
        "/api/v1/drafts/",
        {"tenant": "acme", "connector_id": "notes", "spec_snapshot": spec, "policy_snapshot": policy},
        format="json",
    )
    assert draft.status_code == 201, draft.json()
    item = f"/api/v1/drafts/{draft.json()['id']}/"
    draft = api_walk_to(api, item)
    validated = api.post(f"{item}validate/", HTTP_IF_MATCH=draft["ETag"])
    assert validated.json()["validation"]["passed"] is True, validated.json()
    published = api.post(f"{item}publish/", HTTP_IF_MATCH=draft["ETag"])
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert Connector.objects.get(connector_id="notes").owner.slug == "acme"
    invoked = api.post(
        "/api/v1/tools/os.create_task/invoke/", {"call_id": "demo-1", "input": {"title": "T"}}, format="json"
    )
    assert invoked.status_code == 200, invoked.json()
    # And in the admin: a draft of the next version, validated and published through the action.
    client.force_login(demo)
    created = client.post(
        "/admin/workbench/workbenchdraft/add/",
        {
            "tenant": Membership.objects.get(user=demo).tenant_id,
            "connector_id": "notes",
            "name": "",
            "version": "1.0.0",
        },
    )
    assert created.status_code == 302, created.context and created.context["form"].errors
    second = WorkbenchDraft.objects.filter(connector_id="notes", status="draft").get()
    walk_in_admin(client, second)
    client.post(f"/admin/workbench/workbenchdraft/{quote(second.pk)}/validate/", {"base_revision": 4})
    second.refresh_from_db()
    assert second.validation_passed, second.validation_findings
    done = client.post(
        "/admin/workbench/workbenchdraft/",
        {
            "action": "publish_selected",
            helpers.ACTION_CHECKBOX_NAME: [second.pk],
            "confirm": "yes",
            f"revision_{second.pk}": second.revision,
        },
        follow=True,
    )
    assert "published notes 1.0.1" in done.content.decode()


def test_dev_is_refused_outside_debug_without_the_flag(settings):
    settings.DEBUG = False
    with pytest.raises(Refusal) as refused:
        environment_load(name="dev")
    assert (refused.value.status, refused.value.code) == (403, "demo_users")
    assert "demo-editor" in refused.value.detail and not Membership.objects.exists()
    err = io.StringIO()
    call_command("load_environment", "dev", "--allow-demo-users", stdout=io.StringIO(), stderr=err)
    assert "KNOWN PASSWORDS" in err.getvalue() and Membership.objects.exists()


def test_a_platform_rows_page_shows_no_other_tenants_rows(owner_b, client):
    """The firearm page lists grants and the tenant page members: only the viewer's tenant's (the access
    table's read rule for inlines and counts too)."""
    client.force_login(owner_b)
    firearm = Firearm.objects.get(firearm_id="firearm.external_write")  # granted to demo-editor in acme
    page = client.get(f"/admin/policies/firearm/{firearm.pk}/change/").content.decode()
    assert "demo-editor" not in page and "Dev: try write tools locally." not in page
    listed = client.get("/admin/policies/firearm/").context["cl"].result_list
    assert all(row.active_grant_count == 0 for row in listed)
    acme = Membership.objects.get(user__username="demo-editor").tenant
    owner_b.user_permissions.add(*Permission.objects.filter(codename__in=["view_tenant", "view_membership"]))
    tenant_page = client.get(f"/admin/workbench/tenant/{acme.pk}/change/")
    assert tenant_page.status_code == 200 and "demo-viewer" not in tenant_page.content.decode()
    counts = {
        row.slug: row.member_count for row in client.get("/admin/workbench/tenant/").context["cl"].result_list
    }
    assert counts["acme"] == 0 and counts["beta"] == 1


def test_an_admin_page_about_an_id_that_cannot_be_one_is_not_found(owner_b, client):
    client.force_login(owner_b)
    for url in (
        "/admin/policies/budgetpolicy/abc/history/",
        "/admin/workbench/membership/abc/history/",
        "/admin/policies/firearmgrant/abc/history/",
        "/admin/policies/budgetpolicy/1/history/abc/",
    ):
        assert client.get(url).status_code == 404, url


def test_the_admin_grant_form_offers_only_tenants_where_the_user_grants(owner_b, client):
    client.force_login(owner_b)
    form = client.get("/admin/policies/firearmgrant/add/").context["adminform"].form
    assert [tenant.slug for tenant in form.fields["tenant"].queryset] == ["beta"]
    acme = Membership.objects.get(user__username="demo-editor").tenant
    refused = client.post(
        "/admin/policies/firearmgrant/add/",
        {
            "firearm": Firearm.objects.get(firearm_id="firearm.destructive_op").pk,
            "tenant": acme.pk,
            "principal_type": "tenant",
            "reason": "theirs",
        },
    )
    assert refused.status_code == 200 and "tenant" in refused.context["adminform"].form.errors
    assert not FirearmGrant.objects.filter(reason="theirs").exists()
