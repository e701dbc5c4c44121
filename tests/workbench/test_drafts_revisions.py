import pytest

from tests.policies.factories import FirearmBindingFactory, FirearmFactory
from tests.registries.factories import ConnectorFactory, ScopeFactory
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    platform_staff,
)
from workbench.kit.refusals import Refusal
from workbench.models import Membership, WorkbenchDraft
from workbench.selectors.drafts import draft_history, drafts_visible_to
from workbench.services.drafts import (
    draft_create,
    draft_restore,
    draft_update,
)

pytestmark = pytest.mark.django_db


def test_create_gives_a_draft_id_revision_one_and_a_history_row_with_user_and_reason():
    user = UserFactory()
    tenant = MembershipFactory(user=user).tenant
    draft = draft_create(
        tenant=tenant,
        user=user,
        connector_id="github",
        spec_snapshot=draft_spec("github"),
        reason="first cut",
    )
    assert draft.pk.startswith("draft_") and draft.revision == 1
    assert draft.status == "draft" and draft.stage == "definition"
    (row,) = draft_history(draft)
    assert (row.history_user, row.history_change_reason, row.revision) == (user, "first cut", 1)


def test_create_without_spec_starts_empty_or_from_the_live_version():
    user = UserFactory()
    tenant = MembershipFactory(user=user).tenant
    fresh = draft_create(tenant=tenant, user=user, connector_id="brand-new")
    assert fresh.spec_snapshot["id"] == "brand-new" and fresh.spec_snapshot["scopes"] == []
    assert fresh.policy_snapshot == {"firearms": {}, "kpis": {}}

    connector = ConnectorFactory(connector_id="live-one", owner=tenant)
    ScopeFactory(connector=connector, name="admin_write", tools=["delete_file"])
    FirearmBindingFactory(
        action_name="live-one:admin_write", firearm=FirearmFactory(firearm_id="firearm.ext")
    )
    from_live = draft_create(tenant=tenant, user=user, connector_id="live-one")
    assert from_live.spec_snapshot["version"] == "1.0.1"
    assert (
        from_live.policy_snapshot["firearms"] == {}
    )  # factory spec schema is empty: no scopes in the snapshot


def test_drafts_of_a_live_connector_are_opened_only_in_the_tenant_owning_it():
    user = UserFactory()
    tenant = MembershipFactory(user=user).tenant
    ConnectorFactory(connector_id="theirs")  # owned by another tenant
    with pytest.raises(Refusal) as err:
        draft_create(tenant=tenant, user=user, connector_id="theirs")
    assert (err.value.status, err.value.code) == (403, "not_connector_owner")
    assert not WorkbenchDraft.objects.exists()


def test_create_only_in_a_tenant_where_the_user_writes():
    user = UserFactory()
    viewer_tenant = MembershipFactory(user=user, role=Membership.Role.VIEWER).tenant
    for tenant in (TenantFactory(), viewer_tenant):
        with pytest.raises(Refusal) as err:
            draft_create(tenant=tenant, user=user, connector_id="github")
        assert "tenant" in {e["field"] for e in err.value.errors}


def test_update_moves_the_revision_and_records_who_and_why():
    draft = WorkbenchDraftFactory()
    editor = MembershipFactory(tenant=draft.tenant).user
    updated = draft_update(
        draft_id=draft.pk, user=editor, base_revision=1, changes={"stage": "scoping"}, reason="scoping now"
    )
    assert updated.revision == 2 and updated.revised_by == editor and updated.stage == "scoping"
    latest = draft_history(updated).first()
    assert (latest.history_user, latest.history_change_reason, latest.revision) == (editor, "scoping now", 2)


def test_a_save_that_changes_nothing_is_no_revision_and_makes_nobody_an_author():
    draft = WorkbenchDraftFactory()
    editor = MembershipFactory(tenant=draft.tenant).user
    same = draft_update(
        draft_id=draft.pk, user=editor, base_revision=1,
        changes={"spec_snapshot": draft.spec_snapshot, "policy_snapshot": draft.policy_snapshot},
    )
    assert same.revision == 1 and len(draft_history(same)) == 1
    assert list(same.authors.all()) == [draft.owner]
    draft_update(draft_id=draft.pk, user=editor, base_revision=1, changes={"stage": "scoping"})
    assert list(same.authors.all()) == [draft.owner]  # a stage move is no content change
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    draft_update(draft_id=draft.pk, user=editor, base_revision=2, changes={"policy_snapshot": policy})
    assert set(same.authors.all()) == {draft.owner, editor}


def test_stale_base_revision_is_refused_naming_who_changed_it():
    draft = WorkbenchDraftFactory()
    alice = MembershipFactory(tenant=draft.tenant, user=UserFactory(username="alice")).user
    bob = MembershipFactory(tenant=draft.tenant).user
    draft_update(draft_id=draft.pk, user=alice, base_revision=1, changes={"stage": "scoping"})
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=bob, base_revision=1, changes={"stage": "policy"})
    assert err.value.status == 412 and "alice" in err.value.message
    assert err.value.extra["current_revision"] == 2
    draft.refresh_from_db()
    assert draft.stage == "scoping" and draft.revision == 2


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda spec: spec.update(id="other"), "spec_snapshot.id"),
        (lambda spec: spec.update(name="Renamed"), "spec_snapshot.name"),
        (lambda spec: spec.update(version="1.1.9"), "spec_snapshot.version"),
        (lambda spec: spec.update(version="1.2.0-beta"), "spec_snapshot.version"),
        (lambda spec: spec.update(version="1.2.0.1"), "spec_snapshot.version"),
    ],
)
def test_card_rules_refuse_name_id_changes_and_version_going_down(mutate, field):
    draft = WorkbenchDraftFactory()
    spec = draft_spec(draft.connector_id)
    mutate(spec)
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": spec})
    assert field in {e["field"] for e in err.value.errors}


def test_version_moves_up_and_connector_id_stays():
    draft = WorkbenchDraftFactory()
    spec = draft_spec(draft.connector_id, version="2.0.0")
    updated = draft_update(
        draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": spec}
    )
    assert updated.version == "2.0.0"
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"connector_id": "other"})
    assert "connector_id" in {e["field"] for e in err.value.errors}


def test_scopes_editable_only_while_draft_but_firearms_and_kpis_stay_editable():
    draft = WorkbenchDraftFactory()
    draft = draft_update(
        draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"status": "abandoned"}
    )
    spec = draft_spec(draft.connector_id, scopes=[{"name": "everything", "tools": ["delete_file"]}])
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"spec_snapshot": spec})
    assert "spec_snapshot.scopes" in {e["field"] for e in err.value.errors}
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    draft = draft_update(
        draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"policy_snapshot": policy}
    )
    assert draft.policy_snapshot["firearms"]["admin_write"] == "firearm.external_write"
    draft = draft_update(draft_id=draft.pk, user=draft.owner, base_revision=3, changes={"status": "draft"})
    assert draft_update(draft_id=draft.pk, user=draft.owner, base_revision=4, changes={"spec_snapshot": spec})


@pytest.mark.parametrize("changes", [{"status": "published"}, {"revision": 9}, {"validation_passed": True}])
def test_status_published_and_validation_are_not_writable_by_a_save(changes):
    draft = WorkbenchDraftFactory()
    with pytest.raises(Refusal):
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes=changes)


def test_a_published_draft_never_changes():
    draft = WorkbenchDraftFactory(status=WorkbenchDraft.Status.PUBLISHED, published_version="1.2.0")
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": "policy"})
    assert (err.value.status, err.value.code) == (409, "draft_not_editable")


def test_other_tenants_get_not_found_and_viewers_cannot_write():
    draft = WorkbenchDraftFactory()
    stranger = MembershipFactory().user
    viewer = MembershipFactory(tenant=draft.tenant, role=Membership.Role.VIEWER).user
    assert not drafts_visible_to(stranger).filter(pk=draft.pk).exists()
    assert drafts_visible_to(viewer).filter(pk=draft.pk).exists()
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=stranger, base_revision=1, changes={"stage": "policy"})
    assert err.value.status == 404
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=viewer, base_revision=1, changes={"stage": "policy"})
    assert err.value.status == 403


def test_superuser_outside_the_tenant_does_not_see_the_draft():
    draft = WorkbenchDraftFactory()
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert not drafts_visible_to(admin).filter(pk=draft.pk).exists()


def test_auditors_read_every_draft_and_platform_staff_write_none():
    draft = WorkbenchDraftFactory()
    auditor = platform_staff(["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"])
    assert drafts_visible_to(auditor).filter(pk=draft.pk).exists()
    with pytest.raises(Refusal) as err:
        draft_update(draft_id=draft.pk, user=auditor, base_revision=1, changes={"stage": "policy"})
    assert (err.value.status, err.value.code) == (403, "permission_denied")
    draft.refresh_from_db()
    assert (draft.revision, draft.stage) == (1, "verification")


def test_restore_brings_back_old_content_as_a_new_revision():
    draft = WorkbenchDraftFactory()
    original = draft.spec_snapshot
    changed = draft_spec(
        draft.connector_id, version="1.3.0", scopes=[{"name": "all", "tools": ["delete_file"]}]
    )
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": changed})
    restored = draft_restore(draft_id=draft.pk, user=draft.owner, revision=1)
    # The content comes back but for the version, which never goes down (1.2.0 -> 1.3.0 stays 1.3.0).
    assert restored.revision == 3 and restored.spec_snapshot == {**original, "version": "1.3.0"}
    assert draft_history(restored).first().history_change_reason == (
        "restored revision 1 (version kept at 1.3.0)"
    )
    assert draft_restore(draft_id=draft.pk, user=draft.owner, revision=2).spec_snapshot == changed
    with pytest.raises(Refusal) as err:
        draft_restore(draft_id=draft.pk, user=draft.owner, revision=42)
    assert (err.value.status, err.value.code) == (404, "revision_not_found")
    with pytest.raises(Refusal) as err:
        draft_restore(draft_id=draft.pk, user=draft.owner, revision=2, base_revision=2)
    assert (err.value.status, err.value.code) == (412, "precondition_failed")


def test_restore_changes_are_what_the_restore_writes_and_what_the_preview_shows(client):
    from tests.workbench.drafts_admin_kit import staff_member, url
    from workbench.selectors.draft_diff import diff_states
    from workbench.selectors.drafts import draft_revision_record
    from workbench.services.drafts import restore_changes

    user = staff_member()
    draft = WorkbenchDraftFactory(owner=user, tenant=user.memberships.get().tenant, stage="scoping")
    scopes = [{"name": "all", "tools": ["delete_file"]}]
    changes = {
        "spec_snapshot": draft_spec(draft.connector_id, version="1.3.0", scopes=scopes),
        "policy_snapshot": {"firearms": {"all": None}, "kpis": {}},
    }
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes=changes)
    draft.refresh_from_db()
    restore = restore_changes(draft, draft_revision_record(draft, 1))
    assert restore.version_note == "version kept at 1.3.0" and restore.stage_note == ""
    assert restore.changes["spec_snapshot"]["version"] == "1.3.0"
    current = {
        "stage": draft.stage,
        "status": draft.status,
        "spec_snapshot": draft.spec_snapshot,
        "policy_snapshot": draft.policy_snapshot,
    }
    client.force_login(user)
    preview = client.get(url("restore", draft.pk) + "?revision=1")
    assert preview.status_code == 200
    assert preview.context["changes"] == diff_states(current, {**current, **restore.changes})

    restored = draft_restore(draft_id=draft.pk, user=user, revision=1)
    assert {key: getattr(restored, key) for key in restore.changes} == restore.changes
