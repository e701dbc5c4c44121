"""Migrations 0005/0006, forward, on history rows holding whole copies of their snapshots: each document
becomes one DraftSnapshot, each row refers to its two, and history reads the content it held."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from workbench.models import DraftSnapshot, WorkbenchDraft
from workbench.models.snapshots import snapshot_digest
from workbench.selectors.drafts import draft_revision_record

BEFORE = [("workbench", "0004_auditors_and_draft_authors")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


SPEC_1 = {"id": "notes", "name": "Notes", "version": "1.0.0", "tools": [{"name": "read", "description": "é"}]}
SPEC_2 = {**SPEC_1, "tools": [{"name": "read", "description": "Reads a note"}]}
POLICY = {"firearms": {"read": None}, "kpis": {}}


def _history_with_copies(apps):
    User = apps.get_model("auth", "User")
    Tenant = apps.get_model("workbench", "Tenant")
    Draft = apps.get_model("workbench", "WorkbenchDraft")
    History = apps.get_model("workbench", "HistoricalWorkbenchDraft")
    user = User.objects.create(username="migrating-editor")
    tenant = Tenant.objects.create(slug="migrating", name="Migrating")
    now = timezone.now()
    for draft_id in ("draft_0000aaaa", "draft_0000bbbb"):
        Draft.objects.create(
            id=draft_id, tenant=tenant, owner=user, connector_id="notes", spec_snapshot=SPEC_2,
            policy_snapshot=POLICY, revision=3, revised_at=now,
        )
        # revision 1, 2 (the spec changed) and a validation of 2 (nothing changed): three copies each
        for revision, spec in ((1, SPEC_1), (2, SPEC_2), (2, SPEC_2)):
            History.objects.create(
                id=draft_id, tenant_id=tenant.pk, owner_id=user.pk, connector_id="notes", stage="definition",
                status="draft", spec_snapshot=spec, policy_snapshot=POLICY, revision=revision,
                created_at=now, history_date=now, history_type="~", history_user_id=user.pk,
            )


@pytest.mark.django_db(transaction=True)
def test_history_copies_become_one_snapshot_per_document():
    latest = _latest()
    try:
        _history_with_copies(_migrate(BEFORE))
        _migrate(latest)
    finally:
        _migrate(latest)
    documents = {snapshot.digest: snapshot.content for snapshot in DraftSnapshot.objects.all()}
    assert documents == {snapshot_digest(doc): doc for doc in (SPEC_1, SPEC_2, POLICY)}
    for draft in WorkbenchDraft.objects.filter(connector_id="notes"):
        rows = draft.history.order_by("history_id").values_list("spec_content_id", "policy_content_id")
        assert list(rows) == [
            (snapshot_digest(SPEC_1), snapshot_digest(POLICY)),
            (snapshot_digest(SPEC_2), snapshot_digest(POLICY)),
            (snapshot_digest(SPEC_2), snapshot_digest(POLICY)),
        ]
        first = draft_revision_record(draft, 1)
        assert (first.spec_snapshot, first.policy_snapshot) == (SPEC_1, POLICY)
        assert draft_revision_record(draft, 2).spec_snapshot == SPEC_2


@pytest.mark.django_db(transaction=True)
def test_going_back_to_0004_gives_every_history_row_its_content_back():
    """Backwards, 0007 makes every delta whole again and 0005 copies each row's documents back: nothing
    is lost, and forward again the history reads the same."""
    from tests.workbench.factories import MembershipFactory, WorkbenchDraftFactory, draft_spec, draft_tool
    from workbench.services.drafts import draft_update

    latest = _latest()
    spec = draft_spec("backwards", tools=[draft_tool(f"tool_{n}") for n in range(6)])
    draft = WorkbenchDraftFactory(connector_id="backwards", spec_snapshot=spec)
    editor = MembershipFactory(tenant=draft.tenant).user
    saved = {1: spec}
    for revision in range(1, 5):
        spec = {**spec, "tools": [dict(tool) for tool in spec["tools"]]}
        spec["tools"][revision]["description"] = f"edit {revision}"
        draft_update(draft_id=draft.pk, user=editor, base_revision=revision, changes={"spec_snapshot": spec})
        saved[revision + 1] = spec
    assert DraftSnapshot.objects.filter(base__isnull=False).exists()  # deltas to undo
    try:
        apps = _migrate(BEFORE)
        History = apps.get_model("workbench", "HistoricalWorkbenchDraft")
        rows = History.objects.filter(id=draft.pk).order_by("history_id")
        assert {row.revision: row.spec_snapshot for row in rows} == saved
    finally:
        _migrate(latest)
    for revision, content in saved.items():
        assert draft_revision_record(draft, revision).spec_snapshot == content
