"""The policy matrix import refuses whole: bad rows named by line and column, a scope the open draft lacks,
a tenant the importer does not write in; the command and the admin form say so."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.admin_helpers import logged_in
from tests.policies.factories import StrategyLockFactory
from tests.workbench.factories import MembershipFactory, TenantFactory, draft_spec
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.exchange.importing import run_import
from workbench.models import Membership, WorkbenchDraft
from workbench.services.drafts import draft_create

from .kit import HEADER, like_google_sheets, matrix

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("dry_run", [True, False])
def test_drafts_of_a_connector_go_only_to_the_tenant_owning_it(live, dry_run):
    """github and slack belong to acme, whose draft published them: an editor of another tenant too
    imports nothing there (not_connector_owner), not even a preview."""
    other = TenantFactory(slug="other")
    MembershipFactory(tenant=other, user=live)
    text = like_google_sheets(matrix(live), {("github", "read_public"): "firearm.data_export"})

    report = run_import(PolicyMatrixResource(user=live, tenant=other), text, dry_run=dry_run)

    assert not report.written
    assert report.file_errors == [
        "Connector github belongs to tenant 'acme': only its members draft and publish its versions "
        "(platform staff can transfer it)."
    ]
    assert not WorkbenchDraft.objects.filter(status="draft").exists()


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
