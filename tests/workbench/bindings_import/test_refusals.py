"""The binding imports refuse whole: a bad row named by line and column, a scope the open draft lacks, a
tenant the importer does not write in, a user without the import's permissions; nothing is written."""

import pytest
from django.core.management import CommandError, call_command

from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory, draft_spec
from workbench.exchange import IMPORTS
from workbench.kit.exchange.importing import run_import
from workbench.kit.refusals import Refusal
from workbench.models import Membership, WorkbenchDraft
from workbench.services.drafts import draft_create

from .kit import FIREARM_HEADER, KPI_HEADER, live_firearm_rows, live_kpi_rows, sheet

pytestmark = pytest.mark.django_db

TOOL_ACTION = (
    "'leads.create' is a registry tool, not a connector scope: its bindings belong to no connector's draft "
    "and change through the environment fixtures."
)
BAD_ROWS = [
    # (kind, row, column, message)
    ("firearm-bindings", ["leads.create", "firearm.external_write"], "action_name", TOOL_ACTION),
    ("firearm-bindings", ["github/admin_write", "NONE"], "action_name",
     "'github/admin_write' is not an action '<connector_id>:<scope>'."),
    ("firearm-bindings", ["", "NONE"], "action_name", "Empty: write the action '<connector_id>:<scope>'."),
    ("firearm-bindings", ["gitlab:admin_write", "NONE"], "action_name", "No connector 'gitlab'."),
    ("firearm-bindings", ["github:delete_repo", "NONE"], "action_name",
     "Version 1.2.0 of github has no scope 'delete_repo' (scopes change in a draft)."),
    ("firearm-bindings", ["github:admin_write", "firearm.nope"], "firearm_id", "No firearm 'firearm.nope'."),
    ("firearm-bindings", ["github:admin_write", "external_write"], "firearm_id",
     "'external_write' is not a firearm id (firearm.<name>) or NONE."),
    ("firearm-bindings", ["github:read_public", "NONE"], "action_name",
     "github:read_public is already on line 2."),
    ("kpi-tool-bindings", ["leads.create", "kpi.lead_time"], "action_name", TOOL_ACTION),
    ("kpi-tool-bindings", ["slack:nope", "kpi.lead_time"], "action_name",
     "Version 2.0.0 of slack has no scope 'nope' (scopes change in a draft)."),
    ("kpi-tool-bindings", ["github:read_public", "kpi.nope"], "kpi_id", "No KPI 'kpi.nope'."),
    ("kpi-tool-bindings", ["github:read_public", ""], "kpi_id",
     "Empty: write a KPI id, or NONE for a scope that moves no KPI."),
    ("kpi-tool-bindings", ["github:read_public", "lead_time"], "kpi_id",
     "'lead_time' is not a KPI id (kpi.<name>) or NONE."),
    ("kpi-tool-bindings", ["github:read_public", "NONE"], "kpi_id",
     "github:read_public has NONE and KPIs (line 2 and this one): a scope's rows are its KPIs, or one row "
     "NONE for no KPI."),
    ("kpi-tool-bindings", ["github:read_public", "kpi.lead_time"], "kpi_id",
     "github:read_public:kpi.lead_time is already on line 2."),
]
GOOD = {
    "firearm-bindings": ["github:read_public", "firearm.data_export"],
    "kpi-tool-bindings": ["github:read_public", "kpi.lead_time"],
}


def header(kind):
    return FIREARM_HEADER if kind == "firearm-bindings" else KPI_HEADER


@pytest.mark.parametrize(("kind", "row", "column", "message"), BAD_ROWS)
def test_a_bad_row_is_named_by_line_and_column_and_nothing_is_written(live, tenant, kind, row, column,
                                                                       message):
    before = live_firearm_rows(), live_kpi_rows()
    text = sheet(header(kind), GOOD[kind], row)

    report = run_import(IMPORTS[kind](user=live, tenant=tenant), text, dry_run=False)

    assert list(report.error_lines()) == [f"line 3, column {column}: {message}"]
    assert not report.written
    assert not WorkbenchDraft.objects.filter(status="draft").exists()
    assert (live_firearm_rows(), live_kpi_rows()) == before


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
def test_the_command_names_the_bad_row_and_exits_with_a_refusal(live, tenant, tmp_path, kind):
    path = tmp_path / "bindings.tsv"
    path.write_text(sheet(header(kind), GOOD[kind], ["leads.create", "NONE"]))

    with pytest.raises(CommandError) as refused:
        call_command("import_tsv", kind, str(path), "--user", live.username, "--tenant", "acme")

    assert f"line 3, column action_name: {TOOL_ACTION}" in str(refused.value)
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
@pytest.mark.parametrize("header_row", [["action_name"], ["action_name", "kpi_id", "firearm_id", "effect"]])
def test_a_file_without_the_sheets_columns_is_refused(live, tenant, kind, header_row):
    report = run_import(IMPORTS[kind](user=live, tenant=tenant), sheet(header_row), dry_run=True)
    assert not report.ok
    assert report.file_errors[0].startswith(f"The header must name the columns {', '.join(header(kind))}")


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
def test_an_open_draft_without_the_scope_refuses_the_import(live, tenant, kind):
    draft = draft_create(
        tenant=tenant, user=live, connector_id="github",
        spec_snapshot=draft_spec("github", "1.3.0", tools=[], scopes=[{"name": "only_this", "tools": []}]),
    )

    text = sheet(header(kind), GOOD[kind])

    report = run_import(IMPORTS[kind](user=live, tenant=tenant), text, dry_run=False)

    assert report.file_errors == [
        f"Your open draft {draft.pk} of github has no scope read_public; add the scope to the draft or "
        "abandon it, then import again."
    ]
    draft.refresh_from_db()
    assert draft.revision == 1


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
@pytest.mark.parametrize("role", [Membership.Role.VIEWER, None])
def test_drafts_go_only_to_a_tenant_where_the_importer_writes(live, kind, role):
    other = TenantFactory(slug="other")
    if role:
        MembershipFactory(tenant=other, user=live, role=role)

    report = run_import(IMPORTS[kind](user=live, tenant=other), sheet(header(kind), GOOD[kind]), dry_run=True)

    assert report.file_errors == [
        "You can create drafts only in tenants where you are an owner or editor, not other."
    ]
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
def test_drafts_of_a_connector_go_only_to_the_tenant_owning_it(live, kind):
    other = TenantFactory(slug="other")
    MembershipFactory(tenant=other, user=live, role=Membership.Role.EDITOR)

    report = run_import(IMPORTS[kind](user=live, tenant=other), sheet(header(kind), GOOD[kind]), dry_run=True)

    assert report.file_errors == [
        "Connector github belongs to tenant 'acme': only its members draft and publish its versions "
        "(platform staff can transfer it)."
    ]


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("firearm-bindings", "policies.view_firearmbinding"),
        ("kpi-tool-bindings", "policies.view_kpitoolbinding"),
        ("kpi-tool-bindings", "workbench.add_workbenchdraft"),
    ],
)
def test_an_importer_without_the_permissions_is_refused_before_the_file_is_read(live, tenant, kind, missing):
    perms = {"policies.view_firearmbinding", "policies.view_kpitoolbinding", "workbench.add_workbenchdraft"}
    user = UserFactory(username="partial", perms=sorted(perms - {missing}))
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.EDITOR)

    with pytest.raises(Refusal) as refused:
        run_import(IMPORTS[kind](user=user, tenant=tenant), sheet(header(kind), GOOD[kind]), dry_run=True)

    assert (refused.value.status, refused.value.code) == (403, "permission_denied")
    assert missing in refused.value.detail


@pytest.mark.parametrize("kind", ["firearm-bindings", "kpi-tool-bindings"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_later_connector_refused_leaves_no_note_of_the_drafts_rolled_back(live, tenant, kind, dry_run):
    # github's draft is written first; slack's open draft lacks the scope, so its write is refused and
    # github's draft is rolled back with it: the report must not say it was created.
    draft_create(
        tenant=tenant, user=live, connector_id="slack",
        spec_snapshot=draft_spec("slack", "2.1.0", tools=[], scopes=[{"name": "only_this", "tools": []}]),
    )
    value = {"firearm-bindings": "firearm.data_export", "kpi-tool-bindings": "kpi.lead_time"}[kind]
    rows = [["github:read_public", value], ["slack:post_message", value]]
    resource = IMPORTS[kind](user=live, tenant=tenant)

    report = run_import(resource, sheet(header(kind), *rows), dry_run=dry_run)

    assert not report.ok
    slack = WorkbenchDraft.objects.get(status="draft")
    assert report.file_errors == [
        f"Your open draft {slack.pk} of slack has no scope post_message; add the scope to the draft or "
        "abandon it, then import again."
    ]
    # Notes about the file itself stay (a KPI the file drops); none names a draft.
    assert [note for note in report.notes if "draft" in note] == [] and resource.drafts == []
    assert WorkbenchDraft.objects.filter(status="draft", connector_id="github").count() == 0
