"""Draft history keeps each spec and policy document once (DraftSnapshot, by digest): a save stores only
the snapshot it changed, a validation none, equal documents of any drafts share one row, and history
reads (diff, restore) see the content as saved."""

import pytest
from django.db import transaction

from tests.workbench.factories import MembershipFactory, WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.kit.refusals import Refusal
from workbench.models import DraftSnapshot, WorkbenchDraft
from workbench.models.drafts import snapshot_digest
from workbench.selectors.drafts import draft_history, draft_revision_record, draft_side
from workbench.services.drafts import draft_restore, draft_update, draft_validate
from workbench.services.drafts.revisions import record_validation

pytestmark = pytest.mark.django_db


def _editor(draft):
    return MembershipFactory(tenant=draft.tenant).user


def _digests(draft):
    """(spec, policy) digests of the draft's history rows, oldest first."""
    rows = draft.history.order_by("history_date", "history_id")
    return list(rows.values_list("spec_content_id", "policy_content_id"))


def test_a_save_changing_only_the_policy_stores_the_policy_and_no_spec_copy():
    draft = WorkbenchDraftFactory(stage="policy")
    editor = _editor(draft)
    before = DraftSnapshot.objects.count()
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"policy_snapshot": policy})
    assert DraftSnapshot.objects.count() == before + 1
    (spec_1, policy_1), (spec_2, policy_2) = _digests(draft)
    assert spec_2 == spec_1 == snapshot_digest(draft.spec_snapshot)
    assert policy_2 != policy_1 and DraftSnapshot.objects.get(pk=policy_2).content == policy


def test_a_stage_move_and_a_validation_store_no_snapshot():
    draft = WorkbenchDraftFactory(stage="policy")
    editor = _editor(draft)
    before = DraftSnapshot.objects.count()
    draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"stage": "verification"})
    draft_validate(draft_id=draft.pk, user=editor)
    assert DraftSnapshot.objects.count() == before
    assert len(set(_digests(draft))) == 1 and draft.history.count() == 3


def test_drafts_with_equal_content_share_their_snapshots_whatever_the_key_order():
    spec = draft_spec("shared")
    first = WorkbenchDraftFactory(connector_id="shared", spec_snapshot=spec)
    reordered = dict(reversed(list(spec.items())))
    second = WorkbenchDraftFactory(connector_id="shared", spec_snapshot=reordered)
    assert _digests(first) == _digests(second)
    assert DraftSnapshot.objects.count() == 2  # one spec, one policy


def test_history_reads_the_content_each_revision_saved():
    draft = WorkbenchDraftFactory(stage="definition")
    editor = _editor(draft)
    spec = draft_spec(draft.connector_id, tools=[draft_tool("delete_file"), draft_tool("get_file_contents")])
    spec["tools"][0]["description"] = "Deletes one file"
    draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"spec_snapshot": spec})
    first, second = draft_revision_record(draft, 1), draft_revision_record(draft, 2)
    assert first.spec_snapshot["tools"][0]["description"] == "delete_file tool"
    assert second.spec_snapshot == WorkbenchDraft.objects.get(pk=draft.pk).spec_snapshot
    assert draft_side(draft, "1")["policy_snapshot"] == first.policy_snapshot == draft.policy_snapshot
    restored = draft_restore(draft_id=draft.pk, user=editor, revision=1, base_revision=2)
    assert restored.revision == 3 and restored.spec_snapshot == draft.spec_snapshot
    assert _digests(draft)[2] == _digests(draft)[0]
    assert [row.revision for row in draft_history(draft)] == [3, 2, 1]


def test_ten_saves_of_one_tool_store_ten_spec_snapshots_and_one_policy():
    draft = WorkbenchDraftFactory(stage="definition")
    editor = _editor(draft)
    spec = draft.spec_snapshot
    for revision in range(1, 11):
        spec["tools"][0]["description"] = f"edit {revision}"
        draft_update(draft_id=draft.pk, user=editor, base_revision=revision, changes={"spec_snapshot": spec})
    assert DraftSnapshot.objects.count() == 1 + 10 + 1  # the first spec, ten edits, one policy


def test_a_check_constraint_the_database_reports_is_the_400_naming_the_field():
    # Validation leaves the revision to the database's check: a revision 0 (no service writes one) is
    # refused by it, and answered as full_clean would have answered it.
    draft = WorkbenchDraftFactory()
    draft.revision = 0
    with pytest.raises(Refusal) as refused, transaction.atomic():
        record_validation(draft=draft, user=draft.owner, passed=True, findings=[], checked_revision=0)
    assert refused.value.status == 400
    assert [error["field"] for error in refused.value.errors] == ["revision"]
    assert refused.value.errors[0]["message"] == "Revision starts at 1."
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 1
