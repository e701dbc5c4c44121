from dataclasses import replace

import pytest

from policies.models import Firearm, FirearmBinding, KpiCorridor, KpiDefinition, KpiToolBinding
from tests.admin_helpers import (
    PAGES,
    cases_for,
    check_changelist_queries_flat,
    check_identity_frozen,
    check_page_access,
    logged_in,
    rendered_form_data,
    staff,
)
from tests.policies.factories import (
    FirearmBindingFactory,
    FirearmFactory,
    FirearmGrantFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
)
from tests.workbench.factories import SuperuserFactory
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal
from workbench.kit.rows import row_save

pytestmark = pytest.mark.django_db

# Live bindings change only through publish and environment loads: their admin pages are read-only
# (no add page, the change page shows the row to the view permission).
LIVE_BINDINGS = (FirearmBinding, KpiToolBinding)
CASES = [
    replace(case, addable=False, changeable=False) if case.model in LIVE_BINDINGS else case
    for case in cases_for("policies")
]
BINDING_CASES = [case for case in CASES if case.model in LIVE_BINDINGS]

# A text field of each policy model to change through its admin form, and the value to write.
EDITS = {
    "Firearm": ("name", "Write outside the company"),
    "StrategyLock": ("description", "freeze for the audit"),
    "KpiDefinition": ("name", "Change failure rate"),
    "KpiCorridor": ("note", "agreed with ops"),
    "BudgetPolicy": ("unit", "calls"),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_admin_pages_answer_staff_with_the_permission_and_refuse_others(client, case, page):
    check_page_access(client, case, page)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_changelist_queries_do_not_grow_with_rows(client, case):
    check_changelist_queries_flat(client, case)


@pytest.mark.parametrize("case", BINDING_CASES, ids=str)
def test_live_bindings_are_read_only_in_the_admin_even_for_a_superuser(client, case):
    obj = case.make()
    before = (obj.note, obj.history.count())
    for user in (SuperuserFactory(), staff([case.perm(action) for action in ("view", "change", "delete")])):
        logged_in(client, user)
        page = client.get(case.url("change", obj.pk))
        assert page.status_code == 200
        assert not page.context["has_change_permission"]
        assert not page.context["has_delete_permission"]
        assert not page.context["adminform"].form.fields  # every field is shown read-only
        assert client.post(case.url("change", obj.pk), {"note": "edited"}).status_code == 403
        assert client.post(case.url("add"), {"action_name": "leads.create", "note": ""}).status_code == 403
        assert client.get(case.url("delete", obj.pk)).status_code == 403
    obj.refresh_from_db()
    assert (obj.note, obj.history.count()) == before


@pytest.mark.parametrize("case", [case for case in CASES if case.identity and case.addable], ids=str)
def test_identity_is_read_only_after_creation(client, case):
    check_identity_frozen(client, case)


@pytest.mark.parametrize("case", [case for case in CASES if case.model.__name__ in EDITS], ids=str)
def test_admin_save_keeps_history_with_the_acting_user(client, case):
    field, value = EDITS[case.model.__name__]
    obj = case.make()
    user = staff([case.perm("change")])
    client.force_login(user)
    before = obj.history.count()
    page = client.get(case.url("change", obj.pk))
    data = {**rendered_form_data(page), field: value}

    response = client.post(case.url("change", obj.pk), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    obj.refresh_from_db()
    assert getattr(obj, field) == value
    assert obj.history.count() == before + 1
    assert obj.history.latest().history_user == user
    history = client.get(case.url("history", obj.pk))
    assert history.status_code == 200
    assert user.username in history.content.decode()


@pytest.mark.parametrize("case", [case for case in CASES if case.history], ids=str)
def test_each_history_record_can_be_opened_read_only(client, case):
    obj = case.make()
    record = obj.history.latest()
    logged_in(client, staff([case.perm("view")]))
    page = client.get(case.url("simple_history", obj.pk, record.history_id))
    assert page.status_code == 200
    assert page.context["revert_disabled"]


def test_history_cannot_be_replayed_over_the_current_row(client):
    firearm = FirearmFactory(name="Old")
    record = firearm.history.latest()
    Firearm.objects.filter(pk=firearm.pk).update(name="New")
    logged_in(client, SuperuserFactory())
    url = f"/admin/policies/firearm/{firearm.pk}/history/{record.history_id}/"
    assert client.get(url).status_code == 200
    replay = {"firearm_id": firearm.firearm_id, "name": "Old", "severity": "high"}
    assert client.post(url, replay).status_code == 403
    firearm.refresh_from_db()
    assert firearm.name == "New"


def test_firearm_page_shows_bindings_read_only_and_ignores_posted_bindings(client):
    firearm = FirearmFactory()
    binding = FirearmBindingFactory(firearm=firearm, action_name="github:admin_write", note="kept")
    user = SuperuserFactory()
    client.force_login(user)
    page = client.get(f"/admin/policies/firearm/{firearm.pk}/change/")
    bindings = next(f for f in page.context["inline_admin_formsets"] if f.opts.model is FirearmBinding)
    offered = (bindings.has_add_permission, bindings.has_change_permission, bindings.has_delete_permission)
    assert not any(offered)
    data = {**rendered_form_data(page), "name": "Renamed"}
    # A browser sending bindings anyway (a new one, another action for the existing one) changes none.
    prefix = "bindings"
    data[f"{prefix}-TOTAL_FORMS"] = "2"
    data.update({f"{prefix}-1-action_name": "leads.create", f"{prefix}-1-note": "new",
                 f"{prefix}-1-firearm": firearm.pk})
    data.update({f"{prefix}-0-action_name": "github:other", f"{prefix}-0-note": "changed"})

    response = client.post(f"/admin/policies/firearm/{firearm.pk}/change/", data)

    assert response.status_code == 302
    firearm.refresh_from_db()
    assert firearm.name == "Renamed"  # the firearm itself is saved
    assert list(FirearmBinding.objects.values_list("action_name", "note")) == [("github:admin_write", "kept")]
    assert binding.history.count() == 1


def test_firearm_page_shows_grants_read_only_with_a_link_to_grant(client):
    grant = FirearmGrantFactory()
    logged_in(client, SuperuserFactory())
    page = client.get(f"/admin/policies/firearm/{grant.firearm.pk}/change/")
    grants = next(f for f in page.context["inline_admin_formsets"] if f.opts.model.__name__ == "FirearmGrant")
    assert not (grants.has_add_permission or grants.has_change_permission or grants.has_delete_permission)
    assert f"/admin/policies/firearmgrant/add/?firearm={grant.firearm.pk}" in page.content.decode()


def test_binding_action_name_is_validated_on_the_write_path(client):
    firearm = FirearmFactory()
    # Nobody adds a binding in the admin, even with the add permission: publish writes them.
    logged_in(client, staff(["policies.add_firearmbinding"]))
    response = client.post("/admin/policies/firearmbinding/add/", {"action_name": "Not An Action",
                                                                    "firearm": firearm.pk, "note": ""})
    assert response.status_code == 403
    # The write path publish and environment loads share still refuses a malformed action name.
    with pytest.raises(Refusal) as refused:
        row_save(instance=FirearmBinding(action_name="Not An Action", firearm=firearm), user=SYSTEM)
    assert refused.value.status == 400
    assert "action_name" in {error["field"] for error in refused.value.errors}
    assert not FirearmBinding.objects.exists()


def test_kpi_page_edits_its_corridor_and_tool_bindings(client):
    kpi = KpiDefinitionFactory(kpi_id="kpi.change_failure_rate")
    KpiToolBindingFactory(kpi=kpi, action_name="github:merge")
    logged_in(client, SuperuserFactory())
    url = f"/admin/policies/kpidefinition/{kpi.pk}/change/"
    data = rendered_form_data(client.get(url))
    data.update({"corridor-0-lower": "0", "corridor-0-upper": "15", "corridor-0-critical_upper": "30"})

    response = client.post(url, data)

    assert response.status_code == 302
    corridor = KpiCorridor.objects.get(kpi=kpi)
    assert (corridor.lower, corridor.upper, corridor.critical_upper) == (0, 15, 30)
    assert KpiToolBinding.objects.filter(kpi=kpi).count() == 1


def test_corridor_bounds_out_of_order_are_a_form_error(client):
    kpi = KpiDefinitionFactory()
    logged_in(client, SuperuserFactory())
    url = f"/admin/policies/kpidefinition/{kpi.pk}/change/"
    data = rendered_form_data(client.get(url))
    data.update({"corridor-0-lower": "20", "corridor-0-upper": "10"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert not KpiCorridor.objects.exists()
    assert KpiDefinition.objects.get(pk=kpi.pk).name == kpi.name


def test_usage_events_are_read_only_even_for_a_superuser(client):
    case = next(c for c in CASES if c.model.__name__ == "UsageEvent")
    event = case.make()
    logged_in(client, SuperuserFactory())
    assert client.post(case.url("change", event.pk), {"cost": "0"}).status_code == 403
    assert client.get(case.url("delete", event.pk)).status_code == 403
