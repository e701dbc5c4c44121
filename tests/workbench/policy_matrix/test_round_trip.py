"""The policy matrix round trip: export, edit in a spreadsheet, import -> one draft per changed connector."""


import pytest
from django.utils.html import strip_tags

from registries.models import ComponentSpec, Scope
from tests.admin_helpers import logged_in
from tests.workbench.exchange_kit import bound
from tests.workbench.factories import draft_spec, walk_to
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.exchange.importing import run_import
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import draft_create, draft_publish, draft_validate

from .kit import HEADER, confirm_in_admin, import_in_admin, import_matrix, like_google_sheets, matrix

pytestmark = pytest.mark.django_db


def test_google_sheets_round_trip_ends_in_a_draft_ready_to_publish(client, live, tenant):
    exported = matrix(live)
    assert exported == HEADER + (
        "github\tadmin_write\tfirearm.external_write\tFALSE\n"
        "github\tread_public\tNONE\tFALSE\n"
        "slack\tpost_message\tNONE\tFALSE\n"
    )
    edited = like_google_sheets(exported, {("github", "read_public"): "firearm.data_export"})
    specs, scopes = ComponentSpec.objects.count(), Scope.objects.count()
    logged_in(client, live)

    preview = import_in_admin(client, edited, tenant)

    report = preview.context["result"].report
    assert [(row.line, row.outcome, row.label) for row in report.rows] == [
        (2, "unchanged", "github:admin_write"),
        (3, "update", "github:read_public"),
        (4, "unchanged", "slack:post_message"),
    ]
    assert report.rows[1].changes == [("firearm_id", "NONE", "firearm.data_export")]
    assert report.notes == ["would create a draft of github 1.2.1 in acme (1 firearm decision)"]
    assert not WorkbenchDraft.objects.filter(status="draft").exists()

    response = confirm_in_admin(client, preview)

    assert response.status_code == 302
    draft = WorkbenchDraft.objects.get(status="draft")
    assert (draft.connector_id, draft.owner, draft.tenant, draft.version, draft.stage) == (
        "github",
        live,
        tenant,
        "1.2.1",
        "policy",
    )
    # As staff would: started from the live version at scoping, then the decisions at policy.
    assert [(r.revision, r.stage) for r in draft.history.order_by("history_id")] == [
        (1, "scoping"), (2, "policy"),
    ]
    assert draft.policy_snapshot["firearms"] == {
        "admin_write": "firearm.external_write",
        "read_public": "firearm.data_export",
    }
    # Published versions are immutable: the live registry did not move.
    assert bound("github", "read_public") is None
    assert (ComponentSpec.objects.count(), Scope.objects.count()) == (specs, scopes)
    # The draft id in the message links to its card.
    messages = [strip_tags(str(message)) for message in response.wsgi_request._messages]
    assert f"Created draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)." in messages

    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=live)
    assert refused.value.code == "wrong_stage"
    walk_to(draft, live)
    draft_validate(draft_id=draft.pk, user=live)
    draft_publish(draft_id=draft.pk, user=live)

    assert "github\tread_public\tfirearm.data_export\tFALSE\n" in matrix(live)
    assert bound("github", "read_public") == "firearm.data_export"


def test_a_second_import_updates_the_same_draft(live, tenant):
    first = like_google_sheets(matrix(live), {("github", "read_public"): "firearm.data_export"})
    # The same sheet, edited further: its first edit is already in the draft, so only the new one changes.
    second = like_google_sheets(first, {("github", "admin_write"): "NONE"})
    resource = PolicyMatrixResource(user=live, tenant=tenant)
    assert run_import(resource, first, dry_run=False).written

    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), second, dry_run=False)

    draft = WorkbenchDraft.objects.get(status="draft")
    assert report.notes == [f"updated draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)"]
    assert (draft.revision, draft.stage) == (3, "policy")
    assert draft.policy_snapshot["firearms"] == {"admin_write": None, "read_public": "firearm.data_export"}


@pytest.mark.parametrize("how", ["service", "command"])
def test_changing_a_cell_back_to_live_reaches_the_open_draft(live, tenant, tmp_path, how):
    original = matrix(live)
    edited = like_google_sheets(original, {("github", "read_public"): "firearm.external_write"})
    import_matrix(how, live, tenant, edited, tmp_path)
    draft = WorkbenchDraft.objects.get(status="draft")
    assert draft.policy_snapshot["firearms"]["read_public"] == "firearm.external_write"
    # slack has no open draft: its rows are still compared with live.
    back = like_google_sheets(original, {("slack", "post_message"): "firearm.data_export"})

    report, preview = import_matrix(how, live, tenant, back, tmp_path, dry_run=True)

    assert "line 3: update github:read_public (firearm_id: firearm.external_write -> NONE)" in preview
    assert "line 4: update slack:post_message (firearm_id: NONE -> firearm.data_export)" in preview
    assert f"would update draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)" in preview
    assert "would create a draft of slack 2.0.1 in acme (1 firearm decision)" in preview
    assert "0 new, 2 update, 1 unchanged, 0 error: preview only, nothing was written." in preview
    if report is not None:
        assert report.rows[1].changes == [("firearm_id", "firearm.external_write", "NONE")]
    draft.refresh_from_db()
    assert (draft.revision, draft.policy_snapshot["firearms"]["read_public"]) == (2, "firearm.external_write")

    _, output = import_matrix(how, live, tenant, back, tmp_path)

    assert f"updated draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)" in output
    assert "0 new, 2 update, 1 unchanged, 0 error: written." in output
    draft.refresh_from_db()
    assert draft.revision == 3
    assert draft.policy_snapshot["firearms"] == {"admin_write": "firearm.external_write", "read_public": None}
    slack = WorkbenchDraft.objects.get(status="draft", connector_id="slack")
    assert slack.policy_snapshot["firearms"] == {"post_message": "firearm.data_export"}
    assert bound("github", "read_public") is None


@pytest.mark.parametrize("how", ["service", "command"])
def test_rows_the_open_draft_already_has_are_unchanged_not_written(live, tenant, tmp_path, how):
    edited = like_google_sheets(matrix(live), {("github", "read_public"): "firearm.external_write"})
    import_matrix(how, live, tenant, edited, tmp_path)
    draft = WorkbenchDraft.objects.get(status="draft")

    report, output = import_matrix(how, live, tenant, edited, tmp_path)

    assert f"draft {draft.pk} of github already has these decisions" in output
    assert "0 new, 0 update, 3 unchanged, 0 error: written." in output
    assert "line 3" not in output
    if report is not None:
        assert [row.outcome for row in report.rows] == ["unchanged"] * 3
    draft.refresh_from_db()
    assert draft.revision == 2


def test_a_scope_the_open_draft_has_not_decided_is_decided_by_the_import(live, tenant):
    scopes = [{"name": name, "tools": []} for name in ("admin_write", "read_public")]
    draft = draft_create(
        tenant=tenant, user=live, connector_id="github",
        spec_snapshot=draft_spec("github", "1.3.0", tools=[], scopes=scopes),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write"}, "kpis": {}},
    )

    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), matrix(live), dry_run=False)

    assert [row.describe() for row in report.rows if row.outcome == "update"] == [
        "line 3: update github:read_public (firearm_id: (empty) -> NONE)"
    ]
    draft.refresh_from_db()
    assert draft.policy_snapshot["firearms"] == {"admin_write": "firearm.external_write", "read_public": None}


def test_rows_are_not_counted_written_when_the_draft_got_the_decisions_after_the_comparison(
    live, tenant, monkeypatch
):
    edited = like_google_sheets(matrix(live), {("github", "read_public"): "firearm.external_write"})
    assert run_import(PolicyMatrixResource(user=live, tenant=tenant), edited, dry_run=False).written
    draft = WorkbenchDraft.objects.get(status="draft")
    # As if the draft had been written between reading the rows and writing the drafts.
    monkeypatch.setattr(PolicyMatrixResource, "open_drafts", lambda self, connector_ids: {})

    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), edited, dry_run=False)

    assert report.notes == [f"draft {draft.pk} of github already has these decisions"]
    assert report.summary() == "0 new, 0 update, 3 unchanged, 0 error: written."
    draft.refresh_from_db()
    assert draft.revision == 2


def test_one_draft_per_changed_connector_and_none_for_an_unchanged_file(live, tenant):
    unchanged = run_import(PolicyMatrixResource(user=live, tenant=tenant), matrix(live), dry_run=False)
    assert unchanged.written and unchanged.notes == []
    assert not WorkbenchDraft.objects.filter(status="draft").exists()

    edits = {
        ("github", "read_public"): "firearm.data_export",
        ("slack", "post_message"): "firearm.external_write",
    }
    text = like_google_sheets(matrix(live), edits)
    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), text, dry_run=False)

    assert report.written
    drafts = WorkbenchDraft.objects.filter(status="draft").order_by("connector_id")
    assert [(d.connector_id, d.version) for d in drafts] == [("github", "1.2.1"), ("slack", "2.0.1")]


