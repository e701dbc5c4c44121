"""Stages are a path (CONTRACT B3: definition, scoping, policy, verification): a draft moves one stage
forward at a time or back to any earlier stage, validation reports what the current stage still lacks,
and publish happens only from verification. The service decides; the admin and the API only translate."""

import itertools

import pytest
from django.contrib.auth.models import Permission

from registries.models import ComponentSpec, Connector
from tests.policies.factories import FirearmFactory
from tests.registries.factories import ConnectorSpecFactory
from tests.workbench.drafts_admin_kit import form_data, staff_member, url
from tests.workbench.environments_kit import load
from tests.workbench.factories import (
    MembershipFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
    token_client,
    walk_to,
)
from tests.workbench.publish_kit import publisher
from workbench.admin.drafts.card import _stage_path
from workbench.kit.refusals import Refusal
from workbench.models import Membership, WorkbenchDraft
from workbench.models.drafts import STAGE_PATH
from workbench.selectors.drafts import draft_history
from workbench.services.drafts import (
    PUBLISH_PERMISSION,
    draft_create,
    draft_publish,
    draft_restore,
    draft_update,
    draft_validate,
)

pytestmark = pytest.mark.django_db

MOVES = list(itertools.product(STAGE_PATH, STAGE_PATH))


def allowed(current, new):
    return STAGE_PATH.index(new) <= STAGE_PATH.index(current) + 1


@pytest.mark.parametrize(("current", "new"), MOVES)
def test_a_save_moves_one_stage_forward_or_back_to_any_earlier_stage(current, new):
    draft = WorkbenchDraftFactory(stage=current)
    if allowed(current, new):
        saved = draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": new})
        assert saved.stage == new and saved.revision == (1 if new == current else 2)
        return
    with pytest.raises(Refusal) as refused:
        draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": new})
    assert (refused.value.status, refused.value.code) == (409, "wrong_stage")
    assert [e["field"] for e in refused.value.errors] == ["stage"]
    assert refused.value.extra["allowed"] == list(STAGE_PATH[: STAGE_PATH.index(current) + 2])
    draft.refresh_from_db()
    assert (draft.stage, draft.revision, draft.history.count()) == (current, 1, 1)


@pytest.mark.parametrize(("stage", "ok"), [(s, i <= 1) for i, s in enumerate(STAGE_PATH)])
def test_a_draft_starts_at_definition_or_one_stage_on(stage, ok):
    user = MembershipFactory(role=Membership.Role.EDITOR).user
    tenant = user.memberships.get().tenant
    if ok:
        assert draft_create(tenant=tenant, user=user, connector_id="notes", stage=stage).stage == stage
        return
    with pytest.raises(Refusal) as refused:
        draft_create(tenant=tenant, user=user, connector_id="notes", stage=stage)
    assert (refused.value.status, refused.value.code) == (409, "wrong_stage")
    assert not WorkbenchDraft.objects.exists()


def walked_back_draft():
    """The repro of the review: definition -> scoping -> policy -> verification (revision 4, version
    1.3.0), then back to definition (revision 5, version 1.4.0, a new description)."""
    user = MembershipFactory(role=Membership.Role.EDITOR).user
    tenant = user.memberships.get().tenant
    draft = draft_create(tenant=tenant, user=user, connector_id="notes")
    draft = walk_to(draft, user, "policy")
    spec = {**draft.spec_snapshot, "version": "1.3.0"}
    changes = {"stage": "verification", "spec_snapshot": spec}
    draft_update(draft_id=draft.pk, user=user, base_revision=3, changes=changes)
    spec = {**spec, "version": "1.4.0", "description": "walked back"}
    draft_update(
        draft_id=draft.pk, user=user, base_revision=4, changes={"stage": "definition", "spec_snapshot": spec}
    )
    return WorkbenchDraft.objects.get(pk=draft.pk), user


def test_any_revision_is_restored_and_the_stage_stays_when_it_is_more_than_one_stage_on():
    draft, user = walked_back_draft()

    restored = draft_restore(draft_id=draft.pk, user=user, revision=4, base_revision=5)

    assert (restored.revision, restored.stage, restored.version) == (6, "definition", "1.4.0")
    assert restored.spec_snapshot["description"] != "walked back"
    assert draft_history(restored).first().history_change_reason == (
        "restored revision 4 (stage stays definition, verification is 3 stages on; version kept at 1.4.0)"
    )


def test_a_long_reason_is_cut_so_that_what_happened_to_the_stage_still_fits_the_history():
    draft, user = walked_back_draft()

    draft_restore(draft_id=draft.pk, user=user, revision=4, base_revision=5, reason="why " * 40)

    reason = draft_history(draft).first().history_change_reason
    assert len(reason) == 100
    assert reason.endswith(
        "… (stage stays definition, verification is 3 stages on; version kept at 1.4.0)"
    )


def test_a_restore_takes_the_revisions_stage_one_stage_on_or_back():
    draft, user = walked_back_draft()
    draft_update(draft_id=draft.pk, user=user, base_revision=5, changes={"stage": "scoping"})
    draft_update(draft_id=draft.pk, user=user, base_revision=6, changes={"stage": "policy"})

    on = draft_restore(draft_id=draft.pk, user=user, revision=4, base_revision=7)
    assert (on.revision, on.stage, on.version) == (8, "verification", "1.4.0")
    assert draft_history(on).first().history_change_reason == (
        "restored revision 4 (stage on to verification; version kept at 1.4.0)"
    )

    back = draft_restore(draft_id=draft.pk, user=user, revision=2, base_revision=8)
    assert (back.revision, back.stage, back.version) == (9, "scoping", "1.4.0")
    assert draft_history(back).first().history_change_reason == (
        "restored revision 2 (stage back to scoping; version kept at 1.4.0)"
    )


@pytest.mark.parametrize(("current", "saved_at"), MOVES)
def test_a_restore_is_never_refused_for_its_stage(current, saved_at):
    draft = WorkbenchDraftFactory(stage=saved_at)
    spec = {**draft.spec_snapshot, "version": "9.0.0", "description": "changed"}
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": spec})
    draft = WorkbenchDraft.objects.get(pk=draft.pk)
    if STAGE_PATH.index(current) < STAGE_PATH.index(saved_at):
        draft = draft_update(
            draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"stage": STAGE_PATH[0]}
        )
    draft = walk_to(draft, draft.owner, current)
    assert draft.stage == current

    restored = draft_restore(draft_id=draft.pk, user=draft.owner, revision=1, base_revision=draft.revision)

    assert (restored.version, restored.spec_snapshot["description"]) == ("9.0.0", "MCP server")
    assert restored.stage == (saved_at if allowed(current, saved_at) else current)
    assert restored.revision == draft.revision + 1


@pytest.mark.parametrize("stage", STAGE_PATH[:-1])
def test_publish_happens_only_from_verification(stage):
    FirearmFactory(firearm_id="firearm.external_write")
    draft = WorkbenchDraftFactory(stage=stage, owner=publisher())
    draft = draft_validate(draft_id=draft.pk, user=draft.owner)
    assert draft.validation_passed and not draft.publishable
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    refusal = refused.value
    assert (refusal.status, refusal.code, refusal.extra["stage"]) == (409, "wrong_stage", stage)
    assert not ComponentSpec.objects.exists() and not Connector.objects.exists()
    assert WorkbenchDraft.objects.get(pk=draft.pk).status == "draft"


def api_member(*perms):
    user = UserFactory(
        perms=["workbench.view_workbenchdraft", "workbench.add_workbenchdraft",
               "workbench.change_workbenchdraft", *perms]
    )
    MembershipFactory(user=user, role=Membership.Role.EDITOR)
    return user


def test_the_api_refuses_a_skipped_stage_with_409_wrong_stage_naming_the_field():
    user = api_member(PUBLISH_PERMISSION)
    client = token_client(user)
    created = client.post(
        "/api/v1/drafts/", {"connector_id": "notes", "stage": "policy"}, format="json"
    )
    assert (created.status_code, created.json()["code"]) == (409, "wrong_stage")
    assert created["Content-Type"] == "application/problem+json"
    created = client.post("/api/v1/drafts/", {"connector_id": "notes"}, format="json")
    item = f"/api/v1/drafts/{created.json()['id']}/"

    skipped = client.patch(item, {"stage": "verification"}, format="json", HTTP_IF_MATCH='"1"')

    assert skipped.status_code == 409, skipped.json()
    body = skipped.json()
    assert (body["code"], body["stage"]) == ("wrong_stage", "definition")
    assert body["allowed"] == ["definition", "scoping"]
    assert [e["field"] for e in body["errors"]] == ["stage"]
    assert client.get(item).json()["revision"] == 1
    moved = client.patch(item, {"stage": "scoping"}, format="json", HTTP_IF_MATCH='"1"')
    assert (moved.status_code, moved.json()["stage"]) == (200, "scoping")
    published = client.post(f"{item}publish/")
    assert (published.status_code, published.json()["code"]) == (409, "wrong_stage")


BAD_TOOL = draft_tool("delete_file", destructive=True, inputSchema={"type": "nope"})
UNKNOWN_TOOL = [
    {"name": "admin_write", "tools": ["missing"]},
    {"name": "read_public", "tools": ["get_file_contents"]},
]


@pytest.mark.parametrize(
    ("spec_extra", "policy", "stage"),
    [
        # definition: the connector itself (its tools and their schemas)
        ({"tools": [BAD_TOOL, draft_tool("get_file_contents", read_only=True)]}, None, "definition"),
        # scoping: the scopes and the tools they grant
        ({"scopes": UNKNOWN_TOOL}, None, "scoping"),
        # policy: an explicit firearm decision per scope
        ({}, {"firearms": {"admin_write": None}, "kpis": {}}, "policy"),
        # verification: what only the live registries say (1.2.0 is already published)
        ({"published": True}, None, "verification"),
    ],
    ids=STAGE_PATH,
)
def test_every_finding_names_its_stage_and_each_stage_reports_what_it_lacks(spec_extra, policy, stage):
    if spec_extra.pop("published", False):
        ConnectorSpecFactory(spec_id="github", version="1.2.0")
    draft = WorkbenchDraftFactory(
        connector_id="github",
        stage="definition",
        spec_snapshot={**draft_spec("github", "1.2.0"), **spec_extra},
        **({"policy_snapshot": policy} if policy else {}),
    )

    draft = draft_validate(draft_id=draft.pk, user=draft.owner)

    errors = [item for item in draft.validation_findings if item["severity"] == "error"]
    assert errors and {item["stage"] for item in errors} == {stage}, errors
    assert all(item["stage"] in STAGE_PATH for item in draft.validation_findings)
    # What a stage lacks counts its own errors and those of the stages before it, never later ones.
    for index, current in enumerate(STAGE_PATH):
        draft.stage = current
        assert bool(draft.stage_lacks) == (index >= STAGE_PATH.index(stage)), (current, draft.stage_lacks)


def test_the_api_reports_what_the_current_stage_still_lacks():
    user = api_member()
    draft = WorkbenchDraftFactory(
        stage="scoping", owner=user, tenant=user.memberships.get().tenant,
        policy_snapshot={"firearms": {}, "kpis": {}},
    )
    client = token_client(user)
    item = f"/api/v1/drafts/{draft.pk}/"
    at_scoping = client.post(f"{item}validate/").json()["validation"]
    assert at_scoping["passed"] is False and at_scoping["stage_lacks"] == []
    assert {f["stage"] for f in at_scoping["findings"] if f["severity"] == "error"} == {"policy"}
    client.patch(item, {"stage": "policy"}, format="json", HTTP_IF_MATCH='"1"')
    at_policy = client.post(f"{item}validate/").json()["validation"]
    assert [f["code"] for f in at_policy["stage_lacks"]] == ["firearm_undecided", "firearm_undecided"]


def test_the_card_shows_the_path_the_current_stage_and_the_allowed_moves(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant, stage="scoping")
    client.force_login(user)

    page = client.get(url("change", draft.pk))

    html = page.content.decode()
    assert html.count('aria-current="step"') == 1
    assert 'data-stage="scoping" aria-current="step">2. scoping' in html
    assert [value for value, _ in page.context["card"].fields["stage"].widget.choices] == [
        "definition", "scoping", "policy"
    ]
    assert "from <strong>scoping</strong> it may go to" in html
    assert '<span class="stage-move">definition</span> or <span class="stage-move">policy</span>' in html


def test_the_card_refuses_a_skipped_stage_on_the_stage_field_and_writes_nothing(client):
    user = staff_member()
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant, stage="definition")
    client.force_login(user)
    data = form_data(client.get(url("change", draft.pk)))
    data["stage"] = "policy"  # not offered by the select: a forged or stale form

    response = client.post(url("change", draft.pk), data)

    assert response.status_code == 200
    errors = response.context["card"].errors["stage"]
    assert errors and "one stage forward at a time" in errors[0]
    draft.refresh_from_db()
    assert (draft.stage, draft.revision, draft.history.count()) == ("definition", 1, 1)


def test_load_environment_walks_each_seed_draft_through_the_stages_as_staff_would():
    load("staging")

    for draft in WorkbenchDraft.objects.all():
        saves = draft.history.order_by("history_id").values_list("revision", "stage", "history_change_reason")
        assert [(revision, stage) for revision, stage, _ in saves] == [
            (1, "definition"),
            (2, "scoping"),
            (3, "policy"),
            (4, "verification"),
            (4, "verification"),  # validated
            (4, "verification"),  # published
        ], draft.connector_id
        assert draft.status == "published"
    assert WorkbenchDraft.objects.count() == 3
    # A second load finds every seed published and changes nothing.
    assert "staging: no changes" in load("staging")
    assert WorkbenchDraft.objects.count() == 3


def test_the_admin_restores_a_revision_whose_stage_is_more_than_one_stage_on(client):
    draft, user = walked_back_draft()
    user.is_staff = True
    user.save()
    for perm in ("view", "change"):
        user.user_permissions.add(Permission.objects.get(codename=f"{perm}_workbenchdraft"))
    client.force_login(user)

    history = client.get(url("history", draft.pk))
    preview = {record.revision: record.restore_note for record in history.context["records"]}
    assert preview[4] == "stage stays definition, verification is 3 stages on"
    assert preview[2] == "stage on to scoping" and preview[1] == ""
    assert "(stage stays definition, verification is 3 stages on)" in history.content.decode()

    response = client.post(url("restore", draft.pk), {"revision": 4, "base_revision": 5}, follow=True)

    draft.refresh_from_db()
    assert (draft.revision, draft.stage, draft.version) == (6, "definition", "1.4.0")
    assert [str(message) for message in response.context["messages"]] == [
        "Revision 4 restored as revision 6; the stage stays definition: revision 4 was at verification, "
        "and a draft moves one stage forward at a time. The version stays 1.4.0 (revision 4 had 1.3.0): "
        "a restore never lowers the version."
    ]
    assert draft.history.order_by("-history_id").first().history_change_reason == (
        "restored revision 4 (stage stays definition, verification is 3 stages on; version kept at 1.4.0)"
    )


def test_the_cards_path_of_a_stage_off_the_path_starts_at_its_start():
    # The database refuses such a stage (workbenchdraft_stage_known); a draft in memory can still carry
    # one (a renamed stage, a row read before a migration), and the card must not answer 500 for it.
    path = _stage_path(WorkbenchDraft(stage="review"))

    assert [(stage["name"], stage["current"], stage["move"]) for stage in path] == [
        ("definition", True, ""), ("scoping", False, "next"), ("policy", False, ""),
        ("verification", False, ""),
    ]
