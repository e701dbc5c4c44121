"""The publish confirmation's forecast (`publish_forecast`: the rules of selectors/publish_checks and
the registries' re-check) says what draft_publish does: one rule set, asked by both; these cases pin
that they agree, draft by draft."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import MembershipFactory
from tests.workbench.publish_kit import publisher, ready_draft
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.selectors.publish_checks import publish_refusals
from workbench.services.drafts import draft_publish, draft_update, draft_validate, publish_forecast
from workbench.tenancy.models import Membership

pytestmark = pytest.mark.django_db


def published_code(draft, user):
    """What draft_publish answers, rolled back: None when it publishes."""
    with transaction.atomic():
        try:
            draft_publish(draft_id=draft.pk, user=user)
        except Refusal as refusal:
            return refusal.code
        finally:
            transaction.set_rollback(True)
    return None


def forecast(draft, user):
    refusal = publish_forecast([WorkbenchDraft.objects.get(pk=draft.pk)], user)[draft.pk]
    return None if refusal is None else refusal.code


def _at_policy(draft):
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": "policy"})
    return draft


def _unvalidated(draft):
    spec = {**draft.spec_snapshot, "description": "changed since validation"}
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"spec_snapshot": spec})
    return draft


def _failed(draft):
    draft_update(
        draft_id=draft.pk,
        user=draft.owner,
        base_revision=1,
        changes={"policy_snapshot": {"firearms": {}, "kpis": {}}},
    )
    draft_validate(draft_id=draft.pk, user=draft.owner)
    return draft


def _abandoned(draft):
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"status": "abandoned"})
    return draft


def _owned_elsewhere(draft):
    live = ConnectorSpecFactory(spec_id="github", version="1.0.0")
    ConnectorFactory(connector_id="github", latest_spec=live)
    return draft


def _published_since(draft):
    # Someone published 1.2.0 since validation (the owning tenant, so ownership is no reason).
    live = ConnectorSpecFactory(spec_id="github", version="1.2.0")
    ConnectorFactory(connector_id="github", latest_spec=live, owner=draft.tenant)
    return draft


CASES = {
    "ready": (lambda d: d, None),
    "at policy": (_at_policy, "wrong_stage"),
    "changed since validation": (_unvalidated, "validation_required"),
    "validation failed": (_failed, "validation_failed"),
    "abandoned": (_abandoned, "draft_not_open"),
    "connector of another tenant": (_owned_elsewhere, "not_connector_owner"),
    "version published since validation": (_published_since, "version_conflict"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_forecast_and_the_publish_service_agree(case):
    prepare, code = CASES[case]
    draft = prepare(ready_draft())
    assert forecast(draft, draft.owner) == code
    assert published_code(draft, draft.owner) == code


def test_they_agree_on_who_may_publish(settings):
    draft = ready_draft()
    no_permission = MembershipFactory(tenant=draft.tenant, role=Membership.Role.EDITOR).user
    viewer = MembershipFactory(tenant=draft.tenant, role=Membership.Role.VIEWER, user=publisher()).user
    for user in (no_permission, viewer):
        assert forecast(draft, user) == published_code(draft, user) == "permission_denied"
    settings.WORKBENCH_REQUIRE_REVIEW = True
    assert forecast(draft, draft.owner) == published_code(draft, draft.owner) == "review_required"
    reviewer = MembershipFactory(tenant=draft.tenant, role=Membership.Role.EDITOR, user=publisher()).user
    assert forecast(draft, reviewer) is None and published_code(draft, reviewer) is None


def test_the_forecast_reads_a_fixed_number_of_queries():
    user = publisher()
    tenant = MembershipFactory(user=user, role=Membership.Role.EDITOR).tenant
    drafts = [ready_draft(connector_id=f"c{index}", owner=user, tenant=tenant) for index in range(6)]
    publish_refusals(drafts[:1], user)  # the user's permissions, read once and kept on the user
    with CaptureQueriesContext(connection) as two:
        publish_refusals(drafts[:2], user)
    with CaptureQueriesContext(connection) as six:
        publish_refusals(drafts, user)
    assert len(two) == len(six) == 2  # who may write them, who owns their connectors
