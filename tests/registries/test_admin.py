import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from registries.models import ComponentSpec, Connector, EngineRoute, Skill
from tests.admin_helpers import (
    PAGES,
    action_names,
    cases_for,
    check_changelist_queries_flat,
    check_identity_frozen,
    check_page_access,
    logged_in,
    staff,
)
from tests.registries.factories import (
    ComponentSpecFactory,
    ConnectorFactory,
    ConnectorSpecFactory,
    ScopeFactory,
    SkillFactory,
)
from tests.workbench.factories import MembershipFactory, SuperuserFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

CASES = cases_for("registries")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_admin_pages_answer_staff_with_the_permission_and_refuse_others(client, case, page):
    check_page_access(client, case, page)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_changelist_queries_do_not_grow_with_rows(client, case):
    check_changelist_queries_flat(client, case)


@pytest.mark.parametrize("case", [case for case in CASES if case.identity], ids=str)
def test_identity_is_read_only_after_creation(client, case):
    check_identity_frozen(client, case)


def spec_url(view, *args):
    return reverse(f"admin:registries_componentspec_{view}", args=args)


@pytest.fixture
def editor(client):
    user = staff(["registries.view_componentspec", "registries.add_componentspec",
                  "registries.change_componentspec"])
    logged_in(client, user)
    return user


def test_spec_added_in_admin_records_who_published_it(client, editor):
    response = client.post(spec_url("add"), {
        "spec_id": "lens-pricing", "version": "1.0.0", "kind": "lens", "name": "Pricing lens",
        "description": "", "schema": '{"type": "object"}', "metadata": "{}",
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    spec = ComponentSpec.objects.get(spec_id="lens-pricing")
    assert spec.published_by == editor
    assert spec.schema == {"type": "object"}


def test_mcp_connector_specs_are_not_added_by_hand(client, editor):
    response = client.post(spec_url("add"), {
        "spec_id": "github", "version": "1.0.0", "kind": "component", "name": "GitHub",
        "description": "", "schema": "{}", "metadata": '{"spec_class": "mcp_connector"}',
    })
    assert response.status_code == 200
    assert "through a draft" in str(response.context["adminform"].form.errors["metadata"])
    assert not ComponentSpec.objects.filter(spec_id="github").exists()


def test_published_spec_change_page_edits_only_the_deprecation(client, editor):
    spec = ComponentSpecFactory(name="Original")
    response = client.get(spec_url("change", spec.pk))
    assert list(response.context["adminform"].form.fields) == ["deprecation_message"]

    changed = {"name": "Changed", "deprecation_message": "Use 2.0.0"}
    response = client.post(spec_url("change", spec.pk), changed)
    assert response.status_code == 302
    spec.refresh_from_db()
    assert (spec.name, spec.deprecation_message) == ("Original", "Use 2.0.0")
    assert spec.deprecated_at is not None

    client.post(spec_url("change", spec.pk), {"deprecation_message": ""})
    spec.refresh_from_db()
    assert (spec.deprecated_at, spec.deprecation_message) == (None, "")


def test_specs_are_never_deleted_in_the_admin(client):
    spec = ComponentSpecFactory()
    logged_in(client, SuperuserFactory())
    assert client.get(spec_url("delete", spec.pk)).status_code == 403
    response = client.get(spec_url("changelist"))
    assert "delete_selected" not in action_names(response)


def test_deprecate_action_asks_for_a_message_then_deprecates(client, editor):
    specs = ComponentSpecFactory.create_batch(2)
    selected = {"action": "deprecate_selected", helpers.ACTION_CHECKBOX_NAME: [s.pk for s in specs]}

    page = client.post(spec_url("changelist"), selected)
    assert page.status_code == 200
    assert page.templates[0].name == "admin/workbench/action_with_reason.html"
    assert all(str(spec) in page.content.decode() for spec in specs)

    refused = client.post(spec_url("changelist"), {**selected, "confirm": "yes", "reason": "  "})
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert not ComponentSpec.objects.filter(deprecated_at__isnull=False).exists()

    confirmed = {**selected, "confirm": "yes", "reason": "Use 2.0.0"}
    done = client.post(spec_url("changelist"), confirmed, follow=True)
    assert "Deprecated 2 version(s)." in done.content.decode()
    assert set(ComponentSpec.objects.values_list("deprecation_message", flat=True)) == {"Use 2.0.0"}


def test_deprecate_action_needs_the_change_permission(client):
    ComponentSpecFactory()
    logged_in(client, staff(["registries.view_componentspec"]))
    response = client.get(spec_url("changelist"))
    assert "deprecate_selected" not in action_names(response)


def test_specs_are_read_only_to_anyone_but_platform_staff(client):
    spec = ComponentSpecFactory(name="Before")
    perms = [f"registries.{action}_componentspec" for action in ("view", "add", "change", "delete")]
    # A tenant's owner holding every spec permission: specs are platform-wide, the page is read-only.
    owner = MembershipFactory(user=UserFactory(perms=perms, is_staff=True), role="owner").user
    logged_in(client, owner)
    page = client.get(spec_url("change", spec.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "deprecate_selected" not in action_names(client.get(spec_url("changelist")))
    assert client.get(spec_url("add")).status_code == 403
    assert client.post(spec_url("change", spec.pk), {"deprecation_message": "gone"}).status_code == 403
    spec.refresh_from_db()
    assert spec.deprecated_at is None


def test_skill_form_maps_title_markdown_and_connector(client):
    connector = ConnectorFactory(connector_id="github")
    logged_in(client, staff(["registries.add_skill", "registries.view_skill"]))
    response = client.post("/admin/registries/skill/add/", {
        "spec_id": "github-walkthrough", "version": "1.0.0", "title": "Using GitHub",
        "connector": connector.connector_id, "description": "", "markdown": "# Step one\n\nOpen a PR.",
    })
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    skill = Skill.objects.get(spec_id="github-walkthrough")
    assert skill.kind == ComponentSpec.Kind.CURRICULUM
    assert skill.name == "Using GitHub"
    assert skill.metadata == {"markdown": "# Step one\n\nOpen a PR.", "connector_id": "github"}

    page = client.get(f"/admin/registries/skill/{skill.pk}/change/")
    assert "Open a PR." in page.content.decode()
    assert "github" in page.content.decode()


def test_skill_list_shows_only_curriculum_specs(client):
    SkillFactory(spec_id="walkthrough")
    ComponentSpecFactory(spec_id="an-atom")
    logged_in(client, SuperuserFactory())
    response = client.get("/admin/registries/skill/")
    assert [s.spec_id for s in response.context["cl"].result_list] == ["walkthrough"]


def test_connector_page_shows_versions_and_latest_scopes_read_only(client):
    connector = ConnectorFactory(connector_id="github")
    ScopeFactory(connector=connector, name="old_scope")
    newer = ConnectorSpecFactory(spec_id="github", version="1.1.0")
    Connector.objects.filter(pk=connector.pk).update(latest_spec=newer)
    ScopeFactory(connector=connector, spec=newer, name="read_public")
    logged_in(client, staff(["registries.view_connector", "registries.view_scope"]))

    page = client.get(f"/admin/registries/connector/{connector.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1.0.0" in html and "1.1.0" in html
    scopes = html[html.index('<table class="connector-scopes">'):]
    assert ">read_public</a>" in scopes and "old_scope" not in scopes  # the latest version's scopes
    assert not page.context["has_change_permission"]


def test_connectors_cannot_be_changed_or_deleted_even_by_a_superuser(client):
    connector = ConnectorFactory()
    logged_in(client, SuperuserFactory())
    url = f"/admin/registries/connector/{connector.pk}/"
    assert client.post(f"{url}change/", {"name": "Renamed"}).status_code == 403
    assert client.get(f"{url}delete/").status_code == 403
    connector.refresh_from_db()
    assert connector.name != "Renamed"


def test_platform_staff_transfer_connectors_with_a_reason(client):
    connector = ConnectorFactory(connector_id="github")
    acme = TenantFactory(slug="acme")
    url = "/admin/registries/connector/"
    perms = ["registries.view_connector", "registries.change_connector"]
    selected = {"action": "transfer_selected", helpers.ACTION_CHECKBOX_NAME: [connector.pk]}
    # The change permission without being platform staff (an owner of the connector's tenant): no action.
    owner = UserFactory(perms=perms, is_staff=True)
    MembershipFactory(tenant=connector.owner, user=owner, role="owner")
    logged_in(client, owner)
    assert "transfer_selected" not in action_names(client.get(url))

    user = staff(perms)
    logged_in(client, user)
    assert "transfer_selected" in action_names(client.get(url))
    page = client.post(url, selected)
    assert page.status_code == 200 and {"tenant", "reason"} <= set(page.context["form"].fields)
    confirm = {**selected, "confirm": "yes", "tenant": "acme"}
    assert client.post(url, {**confirm, "reason": " "}).status_code == 200
    assert Connector.objects.get(pk=connector.pk).owner != acme

    done = client.post(url, {**confirm, "reason": "acme runs it"}, follow=True)

    assert "Transferred 1 connector(s)." in done.content.decode()
    connector.refresh_from_db()
    assert connector.owner == acme
    record = connector.history.latest()
    assert record.history_user == user
    assert record.history_change_reason.endswith("-> acme: acme runs it")


def test_connector_list_counts_versions_and_latest_scopes(client):
    connector = ConnectorFactory(connector_id="github")
    ScopeFactory.create_batch(2, connector=connector)
    newer = ConnectorSpecFactory(spec_id="github", version="2.0.0")
    Connector.objects.filter(pk=connector.pk).update(latest_spec=newer)
    ScopeFactory(connector=connector, spec=newer)
    logged_in(client, SuperuserFactory())
    row = client.get("/admin/registries/connector/").context["cl"].result_list[0]
    assert (row.latest_spec.version, row.latest_scope_count, row.version_total) == ("2.0.0", 1, 2)


def test_engine_route_pattern_is_fixed_after_creation(client):
    logged_in(client, staff(["registries.add_engineroute", "registries.change_engineroute",
                             "registries.view_engineroute"]))
    response = client.post("/admin/registries/engineroute/add/", {"pattern": "/chat/*", "description": ""})
    assert response.status_code == 302
    route = EngineRoute.objects.get()
    url = f"/admin/registries/engineroute/{route.pk}/change/"
    client.post(url, {"pattern": "/other/*", "description": "x"})
    route.refresh_from_db()
    assert (route.pattern, route.description) == ("/chat/*", "x")


def test_read_only_registries_say_how_they_change(client):
    logged_in(client, SuperuserFactory())
    connector = ConnectorFactory()
    for url in ("/admin/registries/connector/", f"/admin/registries/connector/{connector.pk}/change/"):
        assert "only through a draft and publish" in client.get(url).content.decode()
