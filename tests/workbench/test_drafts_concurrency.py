"""Concurrency on PostgreSQL with real threads, each on its own database connection."""

import threading

import pytest
from django.db import connection

from registries.models import ComponentSpec, Connector, Scope
from tests.policies.factories import FirearmFactory
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import MembershipFactory, UserFactory, WorkbenchDraftFactory, draft_spec
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import (
    PUBLISH_PERMISSION,
    draft_publish,
    draft_update,
    draft_validate,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls):
    """Run the callables in threads released together; return ("ok", value) or ("refused", problem code)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Refusal as exc:
            results[index] = ("refused", exc.code)
        except Exception as exc:  # noqa: BLE001 - reported to the test as a failure value
            results[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def validated_draft(connector_id="github", version="1.2.0", owner=None, tenant=None):
    FirearmFactory(firearm_id="firearm.external_write")
    kwargs = {"tenant": tenant} if tenant else {}
    draft = WorkbenchDraftFactory(
        connector_id=connector_id,
        owner=owner or UserFactory(perms=[PUBLISH_PERMISSION]),
        spec_snapshot=draft_spec(connector_id, version),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
        **kwargs,
    )
    draft_validate(draft_id=draft.pk, user=draft.owner)
    return draft


def test_same_draft_published_by_eight_callers_publishes_once(on_postgres):
    draft = validated_draft()
    publishers = [draft.owner] + [
        MembershipFactory(tenant=draft.tenant, user=UserFactory(perms=[PUBLISH_PERMISSION])).user
        for _ in range(7)
    ]
    results = run_at_once(
        [lambda user=user: draft_publish(draft_id=draft.pk, user=user).status for user in publishers]
    )
    assert results.count(("ok", "published")) == 1, results
    assert results.count(("refused", "already_published")) == 7, results
    assert ComponentSpec.objects.filter(spec_id="github").count() == 1
    assert Scope.objects.count() == 2
    assert (
        WorkbenchDraft.history.filter(id=draft.pk, history_change_reason__startswith="published").count() == 1
    )


@pytest.mark.parametrize("connector_exists", [False, True], ids=["new-connector", "existing-connector"])
def test_two_drafts_publishing_the_same_connector_version_publish_once(on_postgres, connector_exists):
    owner = UserFactory(perms=[PUBLISH_PERMISSION])
    tenant = MembershipFactory(user=owner).tenant
    if connector_exists:
        # Owned by the drafts' tenant: only its members publish the connector's next versions.
        ConnectorFactory(
            connector_id="github",
            latest_spec=ConnectorSpecFactory(spec_id="github", version="1.0.0"),
            owner=tenant,
        )
    first = validated_draft(owner=owner, tenant=tenant)
    second = validated_draft(owner=owner, tenant=tenant)
    results = run_at_once(
        [lambda d=d: draft_publish(draft_id=d.pk, user=owner).status for d in (first, second)]
    )
    assert sorted(results) == [("ok", "published"), ("refused", "version_conflict")], results
    assert ComponentSpec.objects.filter(spec_id="github", version="1.2.0").count() == 1
    assert Connector.objects.get(connector_id="github").latest_spec.version == "1.2.0"
    assert Scope.objects.filter(spec__version="1.2.0").count() == 2
    assert sorted(WorkbenchDraft.objects.values_list("status", flat=True)) == ["draft", "published"]


def test_two_concurrent_saves_on_the_same_revision_one_is_refused(on_postgres):
    draft = WorkbenchDraftFactory()
    other = MembershipFactory(tenant=draft.tenant).user
    results = run_at_once(
        [
            lambda user=user, stage=stage: (
                draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"stage": stage}).revision
            )
            for user, stage in ((draft.owner, "scoping"), (other, "policy"))
        ]
    )
    assert sorted(results) == [("ok", 2), ("refused", "precondition_failed")], results
    draft.refresh_from_db()
    assert draft.revision == 2 and draft.history.filter(revision=2).count() == 1
