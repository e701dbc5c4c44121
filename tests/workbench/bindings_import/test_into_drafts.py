"""Firearm bindings and KPI tool bindings import into drafts, one per changed connector in the importer's
tenant, never into the live rows; a file equal to what is live or drafted writes nothing."""

import pytest

from registries.models import ComponentSpec, Scope
from tests.workbench.factories import walk_to
from workbench.models import WorkbenchDraft
from workbench.services.drafts import draft_publish, draft_validate

from .kit import (
    FIREARM_HEADER,
    KPI_HEADER,
    import_sheet,
    live_firearm_rows,
    live_kpi_rows,
    sheet,
)

pytestmark = pytest.mark.django_db

HOW = ["service", "command"]


def live_state():
    return live_firearm_rows(), live_kpi_rows(), ComponentSpec.objects.count(), Scope.objects.count()


def open_drafts():
    return {draft.connector_id: draft for draft in WorkbenchDraft.objects.filter(status="draft")}


@pytest.mark.parametrize("how", HOW)
def test_edited_firearm_bindings_become_one_draft_per_changed_connector(live, tenant, tmp_path, how):
    text = sheet(
        FIREARM_HEADER,
        ["github:admin_write", "firearm.external_write"],
        ["github:read_public", "firearm.data_export"],
        ["slack:post_message", "NONE"],
    )
    before = live_state()

    _, preview = import_sheet(how, "firearm-bindings", live, tenant, text, tmp_path, dry_run=True)

    assert "line 3: update github:read_public (firearm_id: NONE -> firearm.data_export)" in preview
    assert "would create a draft of github 1.2.1 in acme (1 firearm decision)" in preview
    assert not open_drafts()

    _, output = import_sheet(how, "firearm-bindings", live, tenant, text, tmp_path)

    drafts = open_drafts()
    assert list(drafts) == ["github"]
    draft = drafts["github"]
    assert (draft.owner, draft.tenant, draft.version, draft.stage) == (live, tenant, "1.2.1", "policy")
    assert draft.policy_snapshot["firearms"] == {
        "admin_write": "firearm.external_write", "read_public": "firearm.data_export",
    }
    assert draft.policy_snapshot["kpis"] == {"admin_write": ["kpi.change_failure_rate"]}
    assert f"created draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)" in output
    # The live rows did not move.
    assert live_state() == before


@pytest.mark.parametrize("how", HOW)
def test_a_kpi_sheet_is_each_named_scopes_whole_list(live, tenant, tmp_path, how):
    text = sheet(
        KPI_HEADER,
        ["github:admin_write", "kpi.lead_time"],  # kpi.change_failure_rate left out: removed
        ["github:read_public", "kpi.tool_error_rate"],
        ["slack:post_message", "kpi.tool_error_rate"],  # as live
    )
    before = live_kpi_rows()

    _, output = import_sheet(how, "kpi-tool-bindings", live, tenant, text, tmp_path)

    assert "line 2: new github:admin_write:kpi.lead_time" in output
    assert "line 3: new github:read_public:kpi.tool_error_rate" in output
    assert "github:admin_write no longer moves kpi.change_failure_rate (not in the file)" in output
    drafts = open_drafts()
    assert list(drafts) == ["github"]
    assert drafts["github"].policy_snapshot["kpis"] == {
        "admin_write": ["kpi.lead_time"], "read_public": ["kpi.tool_error_rate"],
    }
    assert drafts["github"].policy_snapshot["firearms"] == {
        "admin_write": "firearm.external_write", "read_public": None,
    }
    assert f"created draft {drafts['github'].pk} of github 1.2.1 in acme (2 KPI lists)" in output
    assert live_kpi_rows() == before


def test_none_clears_a_scopes_kpis_and_a_scope_the_file_does_not_name_keeps_them(live, tenant, tmp_path):
    text = sheet(KPI_HEADER, ["slack:post_message", "NONE"], ["github:read_public", "NONE"])

    report, _ = import_sheet("service", "kpi-tool-bindings", live, tenant, text, tmp_path)

    assert [(row.line, row.outcome) for row in report.rows] == [(2, "update"), (3, "unchanged")]
    assert report.rows[0].changes == [("kpi_id", "kpi.tool_error_rate", "NONE")]
    drafts = open_drafts()
    assert list(drafts) == ["slack"]
    assert drafts["slack"].policy_snapshot["kpis"] == {}


LIVE_SHEETS = {
    "firearm-bindings": sheet(
        FIREARM_HEADER,
        ["github:admin_write", "firearm.external_write"],
        ["github:read_public", "NONE"],
        ["slack:post_message", "NONE"],
    ),
    "kpi-tool-bindings": sheet(
        KPI_HEADER,
        ["github:admin_write", "kpi.change_failure_rate"],
        ["github:read_public", "NONE"],
        ["slack:post_message", "kpi.tool_error_rate"],
    ),
}


@pytest.mark.parametrize("kind", sorted(LIVE_SHEETS))
def test_the_live_bindings_imported_back_write_nothing(live, tenant, tmp_path, kind):
    report, _ = import_sheet("service", kind, live, tenant, LIVE_SHEETS[kind], tmp_path)

    assert {row.outcome for row in report.rows} == {"unchanged"}
    assert report.notes == []
    assert not open_drafts()


def test_a_second_import_updates_the_open_draft_and_keeps_its_other_changes(live, tenant, tmp_path):
    import_sheet("service", "firearm-bindings", live, tenant,
                 sheet(FIREARM_HEADER, ["github:read_public", "firearm.data_export"]), tmp_path)
    draft = open_drafts()["github"]

    report, _ = import_sheet("service", "kpi-tool-bindings", live, tenant,
                             sheet(KPI_HEADER, ["github:read_public", "kpi.lead_time"]), tmp_path)

    assert report.notes == [f"updated draft {draft.pk} of github 1.2.1 in acme (1 KPI list)"]
    draft.refresh_from_db()
    assert list(open_drafts()) == ["github"]
    assert draft.policy_snapshot["firearms"]["read_public"] == "firearm.data_export"
    assert draft.policy_snapshot["kpis"] == {
        "admin_write": ["kpi.change_failure_rate"], "read_public": ["kpi.lead_time"],
    }
    # Compared with the open draft: the same rows again are unchanged, and nothing is written.
    again, _ = import_sheet("service", "firearm-bindings", live, tenant,
                            sheet(FIREARM_HEADER, ["github:read_public", "firearm.data_export"]), tmp_path)
    assert [row.outcome for row in again.rows] == ["unchanged"]
    assert again.notes == [f"draft {draft.pk} of github already has these decisions"]
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == draft.revision


def test_the_draft_of_an_import_publishes_the_bindings(live, tenant, tmp_path):
    import_sheet("service", "kpi-tool-bindings", live, tenant,
                 sheet(KPI_HEADER, ["github:read_public", "kpi.lead_time"]), tmp_path)
    draft = walk_to(open_drafts()["github"], live)
    draft_validate(draft_id=draft.pk, user=live)
    draft_publish(draft_id=draft.pk, user=live)

    assert ("github:read_public", "kpi.lead_time") in live_kpi_rows()
    assert ("github:admin_write", "kpi.change_failure_rate") in live_kpi_rows()
