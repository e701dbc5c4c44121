"""An edited matrix of many connectors is written in bulk: the database is asked the same questions
whether the sheet changes 2 connectors or 20 (the drafts and their history rows are inserted per
chunk of 500 connectors), and what is written is what draft_create and draft_update write one by one
(the same drafts, the same history rows, the same authors). tests/bench/bench_import_policy_matrix.py
times a 10,000-row matrix."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.policies.factories import FirearmFactory
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.exchange.importing import run_import
from workbench.models import WorkbenchDraft
from workbench.services.drafts import draft_create, draft_update
from workbench.services.drafts.decisions import with_decisions

from .kit import HEADER, like_google_sheets, matrix, publish

pytestmark = pytest.mark.django_db

SCOPES = 10
SMALL, LARGE = 2, 20  # connectors: sheets of 20 and 200 rows
CHANGED = ("scope_0", "scope_5")
VOLATILE = {"id", "history_id", "history_date", "created_at", "revised_at"}


@pytest.fixture
def many(editor, tenant):
    """LARGE connectors of SCOPES scopes, every other scope bound to a firearm; the first connector
    has the importer's open draft."""
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.data_export")
    for index in range(LARGE):
        firearms = {f"scope_{s}": "firearm.external_write" if s % 2 == 0 else None for s in range(SCOPES)}
        publish(editor, tenant, connector(index), "1.0.0", firearms)
    draft_create(tenant=tenant, user=editor, connector_id=connector(0))
    return editor


def connector(index):
    return f"conn-{index:02d}"


def sheet(connectors):
    """The matrix of the first `connectors` connectors with two decisions changed in each."""
    lines = []
    for index in range(connectors):
        for s in range(SCOPES):
            firearm = "firearm.external_write" if s % 2 == 0 else "NONE"
            if f"scope_{s}" in CHANGED:
                firearm = "NONE" if s % 2 == 0 else "firearm.data_export"
            lines.append(f"{connector(index)}\tscope_{s}\t{firearm}\tFALSE\n")
    return HEADER + "".join(lines)


def statements(user, tenant, connectors, *, dry_run):
    """(statements other than INSERT, INSERT statements) of importing sheet(connectors), which must
    succeed and write a draft per connector; rolled back after."""
    user = type(user).objects.get(pk=user.pk)  # as a request has it: no permissions cached yet
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            resource = PolicyMatrixResource(user=user, tenant=tenant)
            report = run_import(resource, sheet(connectors), dry_run=dry_run)
        assert report.ok, list(report.error_lines())[:3]
        assert report.totals()["update"] == connectors * len(CHANGED)
        assert [note.split()[0] for note in report.notes] == (
            ["would", "would"] if dry_run else ["updated", "created"]
        ) + ["would" if dry_run else "created"] * (connectors - 2)
        transaction.set_rollback(True)
    sql = [query["sql"] for query in captured.captured_queries]
    inserts = [statement for statement in sql if statement.startswith("INSERT")]
    return len(sql) - len(inserts), len(inserts)


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_matrix_of_many_connectors_does_no_query_per_row_or_connector(many, tenant, dry_run):
    small = statements(many, tenant, SMALL, dry_run=dry_run)
    large = statements(many, tenant, LARGE, dry_run=dry_run)

    assert large[0] == small[0], (small, large)
    # The drafts, their two kinds of history rows and their authors: one statement each per chunk.
    assert large[1] == small[1] <= 5, (small, large)


def rows_of(draft):
    """The draft's row, its history rows (oldest first) and its authors, without ids and times."""
    draft = WorkbenchDraft.objects.get(pk=draft.pk)
    [row] = WorkbenchDraft.objects.filter(pk=draft.pk).values()
    row = {k: v for k, v in row.items() if k not in VOLATILE}
    history = [
        {k: v for k, v in record.items() if k not in VOLATILE}
        for record in draft.history.order_by("history_id").values()
    ]
    return row, history, sorted(draft.authors.values_list("pk", flat=True))


def test_the_import_writes_what_the_draft_services_write(live, tenant):
    """github gets a new draft (draft_create at scoping, then a save at policy), slack's open draft a
    new revision: the same rows as the services write them one connector at a time."""
    open_slack = draft_create(tenant=tenant, user=live, connector_id="slack", reason="mine")
    edits = {
        ("github", "read_public"): "firearm.data_export",
        ("slack", "post_message"): "firearm.external_write",
    }
    reason = "imported from TSV matrix.tsv"
    with transaction.atomic():
        github = draft_create(
            tenant=tenant, user=live, connector_id="github", stage="scoping",
            reason=f"{reason}: started from the live version",
        )
        github = draft_update(
            draft_id=github.pk, user=live, base_revision=1, reason=reason,
            changes={"stage": "policy", "policy_snapshot": with_decisions(
                github.policy_snapshot, {"read_public": "firearm.data_export"}, {})},
        )
        slack = draft_update(
            draft_id=open_slack.pk, user=live, base_revision=1, reason=reason,
            changes={"policy_snapshot": with_decisions(
                open_slack.policy_snapshot, {"post_message": "firearm.external_write"}, {})},
        )
        expected = rows_of(github), rows_of(slack)
        transaction.set_rollback(True)

    text = like_google_sheets(matrix(live), edits)
    resource = PolicyMatrixResource(user=live, tenant=tenant)
    report = run_import(resource, text, dry_run=False, file_name="matrix.tsv")

    assert report.written, list(report.error_lines())
    github = WorkbenchDraft.objects.get(connector_id="github", status="draft")
    assert (rows_of(github), rows_of(open_slack)) == expected
    assert [(r.history_type, r.revision, r.stage) for r in github.history.order_by("history_id")] == [
        ("+", 1, "scoping"), ("~", 2, "policy"),
    ]
    assert set(github.history.values_list("created_at", flat=True)) == {github.created_at}
