"""A /v0/servers cursor walk while another connection publishes: every version that existed when the walk
started comes back exactly once (PostgreSQL: real concurrent transactions)."""

import threading

import pytest
from django.db import connection

from registries.models import ComponentSpec
from tests.registries.factories import published_connector
from tests.registries.mcp_registry_kit import reader
from tests.workbench.publish_kit import ready_draft
from workbench.services.drafts import draft_publish

pytestmark = pytest.mark.django_db(transaction=True)

PUBLISHES = 8


def _key(item):
    return item["server"]["name"].split("/", 1)[1], item["server"]["version"]


def test_a_cursor_walk_sees_each_existing_version_once_under_concurrent_publishes(on_postgres):
    for index in range(6):
        published_connector(f"before-{index}", ["1.0.0", "1.1.0"])
    # Drafts of new connectors and of new versions of one that exists, published while the walk goes on.
    first = ready_draft(connector_id="github", version="1.0.0")
    draft_publish(draft_id=first.pk, user=first.owner)
    drafts = [
        ready_draft(connector_id="github", version=f"1.{index + 1}.0", owner=first.owner, tenant=first.tenant)
        if index % 2 else ready_draft(connector_id=f"during-{index}", version="1.0.0")
        for index in range(PUBLISHES)
    ]
    existing = set(ComponentSpec.objects.filter(kind="component").values_list("spec_id", "version"))
    published = threading.Semaphore(0)
    failures = []

    def publish():
        try:
            for draft in drafts:
                draft_publish(draft_id=draft.pk, user=draft.owner)
                published.release()
        except Exception as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
            published.release(PUBLISHES)
        finally:
            connection.close()

    client = reader()
    publisher = threading.Thread(target=publish)
    publisher.start()
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get("/v0/servers?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        body = response.json()
        seen.extend(_key(item) for item in body["servers"])
        pages += 1
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
        published.acquire(timeout=30)  # a publish lands between this page and the next
    publisher.join(timeout=120)
    assert not failures, failures
    assert pages > PUBLISHES // 2
    assert len(seen) == len(set(seen)), "a version came back twice"
    assert existing <= set(seen), existing - set(seen)
    assert ComponentSpec.objects.filter(kind="component").count() == len(existing) + PUBLISHES
