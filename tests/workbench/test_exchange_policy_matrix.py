"""The policy matrix round trip: export, edit in a spreadsheet, import -> one draft per changed connector."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from registries.models import ComponentSpec, Scope
from tests.admin_helpers import logged_in
from tests.policies.factories import FirearmFactory, StrategyLockFactory
from tests.workbench.exchange_kit import body, bound
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory, draft_spec, token_client
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.exchange.importing import run_import
from workbench.models import Membership, WorkbenchDraft
from workbench.services.drafts import PUBLISH_PERMISSION, draft_create, draft_publish, draft_validate

pytestmark = pytest.mark.django_db

SHEETS_PERMS = [
    "registries.view_scope",
    "policies.view_firearmbinding",
    "policies.view_strategylock",
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
    PUBLISH_PERMISSION,
]
HEADER = "connector_id\tscope\tfirearm_id\tstrategy_lock\n"


@pytest.fixture
def tenant():
    return TenantFactory(slug="acme")


@pytest.fixture
def editor(tenant):
    user = UserFactory(username="sheets", is_staff=True, perms=SHEETS_PERMS)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.EDITOR)
    return user


def publish(user, tenant, connector_id, version, firearms):
    """A connector published the way staff do it: draft, validate, publish."""
    scopes = [{"name": name, "description": "", "tools": []} for name in firearms]
    draft = draft_create(
        tenant=tenant,
        user=user,
        connector_id=connector_id,
        spec_snapshot=draft_spec(connector_id, version, tools=[], scopes=scopes),
        policy_snapshot={"firearms": firearms, "kpis": {}},
    )
    draft_validate(draft_id=draft.pk, user=user)
    return draft_publish(draft_id=draft.pk, user=user)


@pytest.fixture
def live(editor, tenant):
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.data_export")
    publish(editor, tenant, "github", "1.2.0", {"admin_write": "firearm.external_write", "read_public": None})
    publish(editor, tenant, "slack", "2.0.0", {"post_message": None})
    return editor


def matrix(user):
    return body(token_client(user).get("/api/v1/exports/policy-matrix.tsv")).decode()


def like_google_sheets(text, edits):
    """What Sheets gives back after cells are edited: the same table, CRLF line ends."""
    lines = text.splitlines()
    for (connector_id, scope), firearm_id in edits.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{connector_id}\t{scope}\t"))
        cells = lines[index].split("\t")
        cells[2] = firearm_id
        lines[index] = "\t".join(cells)
    return "".join(line + "\r\n" for line in lines)


def import_in_admin(client, text, tenant):
    upload = SimpleUploadedFile("policy-matrix.tsv", text.encode(), content_type="text/tab-separated-values")
    preview = client.post(
        "/admin/workbench/tsvexchange/import/",
        {
            "import_file": upload,
            "format": "0",
            "resource": "0",
            "tenant": tenant.pk,
        },
    )
    assert preview.status_code == 200
    return preview


def confirm_in_admin(client, preview):
    confirm = preview.context["confirm_form"]
    data = {name: confirm.initial.get(name, "") for name in confirm.fields}
    return client.post("/admin/workbench/tsvexchange/process_import/", {**data, "confirm": "Confirm import"})


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
        "verification",
    )
    assert draft.policy_snapshot["firearms"] == {
        "admin_write": "firearm.external_write",
        "read_public": "firearm.data_export",
    }
    # Published versions are immutable: the live registry did not move.
    assert bound("github", "read_public") is None
    assert (ComponentSpec.objects.count(), Scope.objects.count()) == (specs, scopes)
    messages = [str(message) for message in response.wsgi_request._messages]
    assert f"Created draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)." in messages

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
    assert draft.revision == 2
    assert draft.policy_snapshot["firearms"] == {"admin_write": None, "read_public": "firearm.data_export"}


def import_matrix(how, user, tenant, text, tmp_path, *, dry_run=False):
    """Import `text` as `user` in `tenant` through the service or the command: (report or None, output)."""
    if how == "service":
        report = run_import(PolicyMatrixResource(user=user, tenant=tenant), text, dry_run=dry_run)
        assert report.ok
        lines = [row.describe() for row in report.rows if row.outcome in ("new", "update")]
        return report, "\n".join([*lines, *report.notes, report.summary()])
    path = tmp_path / "policy-matrix.tsv"
    path.write_text(text)
    out = io.StringIO()
    flags = ["--dry-run"] if dry_run else []
    call_command(
        "import_tsv", "policy-matrix", str(path), "--user", user.username, "--tenant", tenant.slug, *flags,
        stdout=out,
    )
    return None, out.getvalue()


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
    assert (draft.revision, draft.policy_snapshot["firearms"]["read_public"]) == (1, "firearm.external_write")

    _, output = import_matrix(how, live, tenant, back, tmp_path)

    assert f"updated draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)" in output
    assert "0 new, 2 update, 1 unchanged, 0 error: written." in output
    draft.refresh_from_db()
    assert draft.revision == 2
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
    assert draft.revision == 1


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
    assert draft.revision == 1


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


@pytest.mark.parametrize(
    "line, column, message",
    [
        ("github\tadmin_write\tfirearm.nope\tFALSE", "firearm_id", "No firearm 'firearm.nope'."),
        ("github\tadmin_write\t\tFALSE", "firearm_id", "Empty: write a firearm id, or NONE for no firearm."),
        (
            "github\tadmin_write\texternal_write\tFALSE",
            "firearm_id",
            "'external_write' is not a firearm id (firearm.<name>) or NONE.",
        ),
        (
            "github\tdelete_repo\tNONE\tFALSE",
            "scope",
            "Version 1.2.0 of github has no scope 'delete_repo' (scopes change in a draft).",
        ),
        ("gitlab\tadmin_write\tNONE\tFALSE", "connector_id", "No connector 'gitlab'."),
        (
            "github\tadmin_write\tfirearm.external_write\tmaybe",
            "strategy_lock",
            "Expected TRUE or FALSE, not 'maybe'.",
        ),
        (
            "github\tadmin_write\tfirearm.external_write\tTRUE",
            "strategy_lock",
            "strategy_lock is derived from the strategy lock policies and is FALSE for this scope; "
            "it cannot be imported. Change the lock in the admin (or export the matrix again).",
        ),
    ],
    ids=[
        "unknown-firearm",
        "empty-firearm",
        "not-a-firearm",
        "unknown-scope",
        "unknown-connector",
        "bad-bool",
        "edited-lock",
    ],
)
def test_a_bad_row_is_named_and_no_draft_is_written(live, tenant, line, column, message):
    good = "github\tread_public\tfirearm.data_export\tFALSE\n"
    text = HEADER + good + line + "\n"
    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), text, dry_run=False)

    assert [(row.line, column_, text) for row in report.rows for column_, text in row.errors] == [
        (3, column, message),
    ]
    assert report.rows[0].outcome == "update"
    assert not report.written
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


@pytest.mark.django_db(transaction=True)
def test_a_bad_row_after_good_ones_writes_no_draft_on_either_database(live, tenant):
    text = like_google_sheets(
        matrix(live),
        {("github", "read_public"): "firearm.data_export", ("slack", "post_message"): "firearm.nope"},
    )
    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), text, dry_run=False)
    assert list(report.error_lines()) == ["line 4, column firearm_id: No firearm 'firearm.nope'."]
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


def test_lock_coverage_counts_lock_policies_whether_engaged_or_not(live, tenant):
    StrategyLockFactory(name="frozen", actions=["github:read_public"])  # released
    assert "github\tread_public\tNONE\tTRUE\n" in matrix(live)
    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), matrix(live), dry_run=True)
    assert report.ok


def test_an_open_draft_without_the_scope_refuses_the_import(live, tenant):
    draft = draft_create(
        tenant=tenant,
        user=live,
        connector_id="github",
        spec_snapshot=draft_spec("github", "1.3.0", tools=[], scopes=[{"name": "only_this", "tools": []}]),
    )
    text = like_google_sheets(matrix(live), {("github", "read_public"): "firearm.data_export"})

    report = run_import(PolicyMatrixResource(user=live, tenant=tenant), text, dry_run=False)

    assert not report.written
    assert report.file_errors == [
        f"Your open draft {draft.pk} of github has no scope read_public; add the scope to the draft or "
        "abandon it, then import again."
    ]
    draft.refresh_from_db()
    assert draft.revision == 1


@pytest.mark.parametrize("role", [Membership.Role.VIEWER, None])
def test_drafts_go_only_to_a_tenant_where_the_user_writes(live, role):
    other = TenantFactory(slug="other")
    if role:
        MembershipFactory(tenant=other, user=live, role=role)
    report = run_import(
        PolicyMatrixResource(user=live, tenant=other),
        like_google_sheets(matrix(live), {("github", "read_public"): "NONE"}),
        dry_run=False,
    )
    assert report.file_errors == [
        "You can create drafts only in tenants where you are an owner or editor, not other."
    ]


def test_command_imports_the_matrix_into_a_draft(live, tenant, tmp_path):
    path = tmp_path / "policy-matrix.tsv"
    path.write_text(like_google_sheets(matrix(live), {("github", "read_public"): "firearm.data_export"}))
    out = io.StringIO()

    call_command("import_tsv", "policy-matrix", str(path), "--user", "sheets", "--dry-run", stdout=out)
    assert "line 3: update github:read_public (firearm_id: NONE -> firearm.data_export)" in out.getvalue()
    assert "would create a draft of github 1.2.1 in acme (1 firearm decision)" in out.getvalue()
    assert not WorkbenchDraft.objects.filter(status="draft").exists()

    out = io.StringIO()
    call_command("import_tsv", "policy-matrix", str(path), "--user", "sheets", "--tenant", "acme", stdout=out)
    draft = WorkbenchDraft.objects.get(status="draft")
    assert f"created draft {draft.pk} of github 1.2.1 in acme (1 firearm decision)" in out.getvalue()


def test_command_asks_for_the_tenant_when_the_user_writes_in_several(live, tmp_path):
    MembershipFactory(tenant=TenantFactory(slug="second"), user=live)
    path = tmp_path / "policy-matrix.tsv"
    path.write_text(matrix(live))
    with pytest.raises(CommandError, match="--tenant SLUG"):
        call_command("import_tsv", "policy-matrix", str(path), "--user", "sheets")


def test_admin_import_form_offers_only_the_users_writable_tenants(client, live, tenant):
    MembershipFactory(tenant=TenantFactory(slug="read-only"), user=live, role=Membership.Role.VIEWER)
    logged_in(client, live)
    form = client.get("/admin/workbench/tsvexchange/import/").context["form"]
    assert list(form.fields["tenant"].queryset) == [tenant]
