"""Draft history keeps each spec and policy document once (DraftSnapshot, by digest): a save stores only
the snapshot it changed (a spec as the difference from the one before), a validation none, equal documents
of any drafts share one row, and history reads (diff, restore) see the content as saved."""

import copy

import pytest
from django.db import transaction

from tests.workbench.factories import MembershipFactory, WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.kit.refusals import Refusal
from workbench.models import DraftSnapshot, WorkbenchDraft, snapshots
from workbench.models.snapshots import snapshot_digest
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


def _one_tool_saves(draft, editor, count, first_revision=1):
    """`count` saves each changing one tool's description; the specs saved, by revision."""
    saved = {}
    for revision in range(first_revision, first_revision + count):
        spec = copy.deepcopy(WorkbenchDraft.objects.get(pk=draft.pk).spec_snapshot)
        spec["tools"][revision % 2]["description"] = f"edit {revision}"
        draft_update(draft_id=draft.pk, user=editor, base_revision=revision, changes={"spec_snapshot": spec})
        saved[revision + 1] = spec
    return saved


def test_ten_one_tool_saves_store_ten_deltas_of_one_tool_each_and_read_whole():
    draft = WorkbenchDraftFactory(stage="definition")
    editor = _editor(draft)
    first = copy.deepcopy(draft.spec_snapshot)
    saved = _one_tool_saves(draft, editor, 10)
    assert DraftSnapshot.objects.count() == 1 + 10 + 1  # the first spec, ten edits, one policy
    deltas = DraftSnapshot.objects.filter(base__isnull=False).order_by("depth")
    assert [d.depth for d in deltas] == list(range(1, 11))
    assert all(d.content is None and list(d.patch["tools"]["changed"]) in (["0"], ["1"]) for d in deltas)
    assert all(d.patch["set"] == {} and d.patch["unset"] == [] for d in deltas)
    for revision, spec in saved.items():
        assert draft_revision_record(draft, revision).spec_snapshot == spec
        assert draft_side(draft, str(revision))["spec_snapshot"] == spec
    restored = draft_restore(draft_id=draft.pk, user=editor, revision=1, base_revision=11)
    assert restored.spec_snapshot == first
    assert draft_revision_record(draft, 12).spec_snapshot == first


def test_deltas_stop_at_the_longest_chain_and_where_most_tools_change(monkeypatch):
    monkeypatch.setattr(snapshots, "MAX_DEPTH", 3)
    draft = WorkbenchDraftFactory(stage="definition")
    editor = _editor(draft)
    saved = _one_tool_saves(draft, editor, 5)
    assert max(DraftSnapshot.objects.values_list("depth", flat=True)) == 3
    assert [draft_revision_record(draft, r).spec_snapshot for r in saved] == list(saved.values())
    spec = copy.deepcopy(saved[6])
    for tool in spec["tools"]:
        tool["description"] = "all new"
    draft_update(draft_id=draft.pk, user=editor, base_revision=6, changes={"spec_snapshot": spec})
    whole = DraftSnapshot.objects.get(pk=snapshot_digest(spec))
    assert whole.content == spec and whole.base_id is None and whole.depth == 0


def test_a_spec_the_latest_history_row_does_not_hold_is_no_base():
    # Written past the services (as a fixture load does, with no history row): the next save cannot
    # be stored as the difference from a spec that is not stored, so it is stored whole.
    draft = WorkbenchDraftFactory(stage="definition")
    editor = _editor(draft)
    changed = copy.deepcopy(draft.spec_snapshot)
    changed["description"] = "changed past the history"
    WorkbenchDraft.objects.filter(pk=draft.pk).update(spec_snapshot=changed)
    spec = copy.deepcopy(changed)
    spec["tools"][0]["description"] = "saved"
    draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"spec_snapshot": spec})
    stored = DraftSnapshot.objects.get(pk=snapshot_digest(spec))
    assert stored.content == spec and stored.base_id is None
    assert draft_revision_record(draft, 2).spec_snapshot == spec


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


def test_a_snapshot_that_is_not_json_is_the_400_naming_it():
    draft = WorkbenchDraftFactory(stage="policy")
    policy = {"firearms": {"admin_write": {"not", "json"}}, "kpis": {}}
    with pytest.raises(Refusal) as refused:
        draft_update(
            draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"policy_snapshot": policy}
        )
    assert refused.value.status == 400
    assert [error["field"] for error in refused.value.errors] == ["policy_snapshot"]
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 1


@pytest.mark.parametrize(("old", "new"), [(1, True), (0, False), (1, 1.0), (True, 1)])
@pytest.mark.parametrize("where", ["tool", "top"])
def test_a_change_of_type_alone_is_a_revision_and_history_reads_it_back(old, new, where):
    """JSON's 1, true and 1.0 are different values, though Python's == takes them as equal: a save that
    changes only the type is a new revision, and its stored delta carries it."""
    spec = draft_spec("typed", tools=[draft_tool("one"), draft_tool("two")])
    draft = WorkbenchDraftFactory(connector_id="typed", spec_snapshot=spec)
    editor = _editor(draft)

    def with_value(value, description):
        changed = copy.deepcopy(spec)
        if where == "tool":
            changed["tools"][0]["x_flag"] = value
        else:
            changed["x_top"] = value
        changed["tools"][1]["description"] = description
        return changed

    for base, spec_sent in enumerate([with_value(old, "a"), with_value(new, "b"), with_value(old, "b")], 1):
        draft_update(draft_id=draft.pk, user=editor, base_revision=base, changes={"spec_snapshot": spec_sent})
    draft.refresh_from_db()
    assert draft.revision == 4
    for revision, value, description in ((2, old, "a"), (3, new, "b"), (4, old, "b")):
        read = draft_revision_record(draft, revision).spec_snapshot
        got = read["tools"][0]["x_flag"] if where == "tool" else read["x_top"]
        assert (got, type(got), read["tools"][1]["description"]) == (value, type(value), description)
