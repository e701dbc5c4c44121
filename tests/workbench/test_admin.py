import pytest
from django.contrib import admin

from registries.models import RoutingConfig
from tests.admin_helpers import (
    CASES,
    PAGES,
    cases_for,
    check_changelist_queries_flat,
    check_identity_frozen,
    check_page_access,
    logged_in,
    registered_project_models,
    rendered_form_data,
    staff,
)
from tests.workbench.factories import SuperuserFactory, TenantFactory, UserFactory, platform_staff
from workbench.kit.admin import base as admin_base
from workbench.kit.refusals import Refusal
from workbench.models import Membership

pytestmark = pytest.mark.django_db

WORKBENCH_CASES = cases_for("workbench")


def test_every_model_admin_of_the_project_is_covered_by_the_admin_tests():
    covered = {case.model for case in CASES}
    missing = sorted(model._meta.label for model in registered_project_models() - covered)
    assert not missing, f"add an AdminCase in tests/admin_helpers.py for {missing}"


def test_site_is_branded():
    assert admin.site.site_header == admin.site.site_title == "Connector Workbench"


def test_index_lists_the_three_apps(client):
    logged_in(client, SuperuserFactory())
    html = client.get("/admin/").content.decode()
    assert "Connector Workbench" in html
    for app in ("Registries (what exists)", "Policies (what is allowed)", "Workbench (how it changes)"):
        assert app in html


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", WORKBENCH_CASES, ids=str)
def test_admin_pages_answer_staff_with_the_permission_and_refuse_others(client, case, page):
    check_page_access(client, case, page)


@pytest.mark.parametrize("case", WORKBENCH_CASES, ids=str)
def test_changelist_queries_do_not_grow_with_rows(client, case):
    check_changelist_queries_flat(client, case)


@pytest.mark.parametrize("case", [case for case in WORKBENCH_CASES if case.identity], ids=str)
def test_identity_is_read_only_after_creation(client, case):
    check_identity_frozen(client, case)


def test_tenant_page_adds_members_inline_and_keeps_existing_members_fixed(client):
    tenant = TenantFactory()
    first, second, other = UserFactory(), UserFactory(), UserFactory()
    Membership.objects.create(tenant=tenant, user=first)
    # An auditor: the inline shows the tenant's members only to who may read them.
    logged_in(client, platform_staff(is_superuser=True))
    url = f"/admin/workbench/tenant/{tenant.pk}/change/"
    data = rendered_form_data(client.get(url))
    data.update({
        "memberships-TOTAL_FORMS": "2", "memberships-1-user": second.pk, "memberships-1-role": "viewer",
        "memberships-0-user": other.pk, "memberships-0-role": "owner",
    })

    response = client.post(url, data)

    assert response.status_code == 302
    assert sorted(tenant.memberships.values_list("user__username", "role")) == sorted(
        [(first.username, "owner"), (second.username, "viewer")]
    )


@pytest.mark.parametrize(
    "refusal, where",
    [
        (Refusal.fields({"backend_type": "This backend is retired."}), "backend_type"),
        (Refusal.fields({"kind": "Unknown kind."}), None),  # a field the form does not have
        (Refusal(409, "conflict", "Refused by the service."), None),
    ],
)
def test_service_refusal_is_shown_on_the_form_and_nothing_is_saved(client, monkeypatch, refusal, where):
    def save_then_refuse(*, instance, reason="", user=None):
        instance.save()
        raise refusal

    monkeypatch.setattr(admin_base, "row_save", save_then_refuse)
    logged_in(client, staff(["registries.add_routingconfig"]))

    response = client.post("/admin/registries/routingconfig/add/", {
        "resource_kind": "leads", "backend_type": "TabularStore", "options": "{}", "description": "",
    })

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form["resource_kind"].value() == "leads"  # what the user typed is still there
    message = refusal.errors[0]["message"] if refusal.errors else refusal.detail
    if where:
        assert form.errors[where] == [message]
    else:
        assert message in " ".join(form.non_field_errors())
    assert not RoutingConfig.objects.exists()
