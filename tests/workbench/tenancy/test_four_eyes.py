"""Four eyes (WORKBENCH_REQUIRE_REVIEW): a draft's authors are everyone who saved a change of its spec or
policy; none of them publishes it. A save that changes nothing writes no revision and makes no author;
environment loads publish the reviewed-as-code seeds and say so."""

import pytest

from tests.policies.factories import FirearmFactory
from tests.workbench.factories import MembershipFactory, UserFactory, draft_spec, walk_to
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import (
    PUBLISH_PERMISSION,
    draft_create,
    draft_publish,
    draft_update,
    draft_validate,
)
from workbench.services.environments import environment_load

pytestmark = pytest.mark.django_db

POLICY = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}


@pytest.fixture
def review(settings):
    settings.WORKBENCH_REQUIRE_REVIEW = True


@pytest.fixture
def team():
    FirearmFactory(firearm_id="firearm.external_write")
    tenant = MembershipFactory().tenant
    names = ("writer", "tweaker", "mover", "reviewer")
    return {
        name: MembershipFactory(
            tenant=tenant, user=UserFactory(username=name, perms=[PUBLISH_PERMISSION])
        ).user
        for name in names
    }


def authors(draft):
    return sorted(draft.authors.values_list("username", flat=True))


def test_authors_are_who_changed_spec_or_policy_and_none_of_them_publishes(review, team):
    draft = draft_create(
        tenant=team["writer"].memberships.get().tenant,
        user=team["writer"],
        connector_id="notes",
        spec_snapshot=draft_spec("notes", "1.0.0"),
    )
    draft = draft_update(
        draft_id=draft.pk, user=team["tweaker"], base_revision=1, changes={"policy_snapshot": POLICY}
    )
    # A stage move is a revision, not authorship; a save of the same content is not even a revision.
    draft = walk_to(draft, team["mover"])
    unchanged = draft_update(
        draft_id=draft.pk,
        user=team["mover"],
        base_revision=5,
        changes={"policy_snapshot": POLICY, "stage": "verification"},
    )
    assert unchanged.revision == 5 and draft.history.count() == 5
    assert authors(draft) == ["tweaker", "writer"]
    draft = draft_validate(draft_id=draft.pk, user=team["writer"])
    for author in ("writer", "tweaker"):
        with pytest.raises(Refusal) as refused:
            draft_publish(draft_id=draft.pk, user=team[author])
        assert (refused.value.status, refused.value.code) == (403, "review_required")
        assert refused.value.extra["authors"] == ["tweaker", "writer"]
    # The one who only moved the stage reviews it.
    assert draft_publish(draft_id=draft.pk, user=team["mover"]).status == "published"


def test_without_review_an_author_publishes(team):
    draft = draft_create(
        tenant=team["writer"].memberships.get().tenant,
        user=team["writer"],
        connector_id="notes",
        spec_snapshot=draft_spec("notes", "1.0.0"),
        policy_snapshot=POLICY,
    )
    walk_to(draft, team["writer"])
    draft = draft_validate(draft_id=draft.pk, user=team["writer"])
    assert draft_publish(draft_id=draft.pk, user=team["writer"]).status == "published"


def test_environment_loads_publish_the_seeds_under_review_and_history_says_so(review):
    environment_load(name="staging")
    seeded = WorkbenchDraft.objects.get(connector_id="github", status="published")
    reason = seeded.history.latest().history_change_reason
    assert reason.endswith("(review waived: seeds are reviewed as code)")
