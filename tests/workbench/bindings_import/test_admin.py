"""The admin's TSV exchange page imports firearm bindings and KPI tool bindings beside the policy matrix:
the user picks the sheet (among those they may import), sees a preview of every row, then confirms;
the confirm writes the drafts, never a live binding."""

import pytest
from django.utils.html import strip_tags

from policies.models import KpiDefinition
from tests.admin_helpers import logged_in
from tests.workbench.factories import MembershipFactory, UserFactory
from workbench.models import Membership, WorkbenchDraft

from .kit import FIREARM_HEADER, KPI_HEADER, confirm_in_admin, live_kpi_rows, preview_in_admin, sheet

pytestmark = pytest.mark.django_db

IMPORT_PAGE = "/admin/workbench/tsvexchange/import/"


def offered(client):
    form = client.get(IMPORT_PAGE).context["form"]
    return [label for _, label in form.fields["resource"].choices]


def test_the_page_offers_the_sheets_the_user_may_import(client, live, tenant):
    assert offered(logged_in(client, live)) == [
        "policy-matrix.tsv", "firearm-bindings.tsv", "kpi-tool-bindings.tsv",
    ]
    firearms_only = UserFactory(
        username="firearms-only", is_staff=True,
        perms=["registries.view_scope", "policies.view_firearmbinding", "workbench.add_workbenchdraft"],
    )
    MembershipFactory(tenant=tenant, user=firearms_only, role=Membership.Role.EDITOR)
    assert offered(logged_in(client, firearms_only)) == ["policy-matrix.tsv", "firearm-bindings.tsv"]


def test_kpi_bindings_go_through_a_preview_into_a_draft(client, live, tenant):
    text = sheet(KPI_HEADER, ["github:read_public", "kpi.lead_time"])
    before = live_kpi_rows()
    logged_in(client, live)

    preview = preview_in_admin(client, "kpi-tool-bindings", text, tenant)

    assert preview.status_code == 200
    report = preview.context["result"].report
    assert [(row.line, row.outcome, row.label) for row in report.rows] == [
        (2, "new", "github:read_public:kpi.lead_time"),
    ]
    assert report.notes == ["would create a draft of github 1.2.1 in acme (1 KPI list)"]
    assert not WorkbenchDraft.objects.filter(status="draft").exists()

    response = confirm_in_admin(client, preview)

    assert response.status_code == 302
    draft = WorkbenchDraft.objects.get(status="draft")
    assert draft.policy_snapshot["kpis"]["read_public"] == ["kpi.lead_time"]
    # The draft id in the message links to its card.
    messages = [strip_tags(str(message)) for message in response.wsgi_request._messages]
    assert f"Created draft {draft.pk} of github 1.2.1 in acme (1 KPI list)." in messages
    assert live_kpi_rows() == before


def test_a_bad_row_is_shown_in_the_preview_and_cannot_be_confirmed(client, live, tenant):
    text = sheet(FIREARM_HEADER, ["github:read_public", "firearm.data_export"], ["leads.create", "NONE"])
    logged_in(client, live)

    preview = preview_in_admin(client, "firearm-bindings", text, tenant)

    assert preview.status_code == 200
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    report = preview.context["result"].report
    assert [(row.line, row.outcome) for row in report.rows] == [(2, "update"), (3, "error")]
    assert "is a registry tool, not a connector scope" in preview.content.decode()
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


def help_text(response):
    html = response.content.decode()
    start = html.index("A tab-separated UTF-8 file")
    return " ".join(html[start:html.index("</p>", start)].split())


def test_the_form_names_each_sheets_columns_and_a_preview_those_of_the_chosen_sheet(client, live, tenant):
    logged_in(client, live)

    page = client.get(IMPORT_PAGE)
    assert page.context["fields_list"] == [
        ("policy-matrix.tsv", ["connector_id", "scope", "firearm_id", "strategy_lock"]),
        ("firearm-bindings.tsv", ["action_name", "firearm_id"]),
        ("kpi-tool-bindings.tsv", ["action_name", "kpi_id"]),
    ]
    assert "(required: policy-matrix.tsv: connector_id, scope, firearm_id; firearm-bindings.tsv:" in (
        help_text(page)
    )

    text = sheet(KPI_HEADER, ["github:x", "kpi.lead_time"])  # a bad row: the preview shows it
    preview = preview_in_admin(client, "kpi-tool-bindings", text, tenant)
    assert preview.context["fields_list"] == [("kpi-tool-bindings.tsv", ["action_name", "kpi_id"])]
    assert "columns; required: action_name, kpi_id." in help_text(preview)


def test_a_failed_confirm_shows_the_columns_of_the_sheet_the_user_chose(client, live, tenant):
    logged_in(client, live)
    preview = preview_in_admin(
        client, "kpi-tool-bindings", sheet(KPI_HEADER, ["github:read_public", "kpi.lead_time"]), tenant
    )
    KpiDefinition.objects.filter(kpi_id="kpi.lead_time").delete()  # gone between preview and confirm

    response = confirm_in_admin(client, preview)

    assert response.status_code == 200
    assert "Nothing was imported" in response.content.decode()
    assert response.context["fields_list"] == [("kpi-tool-bindings.tsv", ["action_name", "kpi_id"])]
    assert "<code>action_name, kpi_id</code>" in response.content.decode()
    assert "columns; required: action_name, kpi_id." in help_text(response)
    assert not WorkbenchDraft.objects.filter(status="draft").exists()
