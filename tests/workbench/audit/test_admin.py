"""The security events admin: read-only for everyone, filters and search, who sees which events, and a
constant number of queries whatever the number of rows."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import SuperuserFactory
from workbench.models import SecurityEvent
from workbench.selectors.audit import security_events_visible_to
from workbench.services.audit import Kind, audit_record

from .kit import SUBJECTS, VISIBLE, fixed_events

pytestmark = pytest.mark.django_db

LIST = "/admin/workbench/securityevent/"


@pytest.fixture
def world(rf):
    return fixed_events(rf)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _listed(client, query=""):
    response = client.get(LIST + query)
    assert response.status_code == 200, response.status_code
    return {event.subject for event in response.context["cl"].result_list} & set(SUBJECTS)


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_person_sees_the_events_of_their_tenants_and_auditors_all(world, who):
    people, _ = world
    assert _listed(_client(people[who])) == VISIBLE[who]
    assert {e.subject for e in security_events_visible_to(people[who])} & set(SUBJECTS) == VISIBLE[who]


def test_another_tenant_s_event_page_is_not_found(world):
    people, _ = world
    event_b = SecurityEvent.objects.get(subject="event-b")
    client = _client(people["member_a"])
    assert client.get(f"{LIST}{event_b.pk}/change/").status_code == 302  # the admin's "does not exist"
    event_a = SecurityEvent.objects.get(subject="event-a")
    page = client.get(f"{LIST}{event_a.pk}/change/")
    assert page.status_code == 200 and "192.0.2.10" in page.content.decode()
    assert client.get(f"{LIST}abc/change/").status_code == 302  # cannot be an id: not found, not a 500
    assert client.get(f"{LIST}1%00/change/").status_code == 404


def test_without_the_view_permission_there_is_no_list(world):
    people, _ = world
    assert _client(people["no_view"]).get(LIST).status_code == 403


def test_a_superuser_alone_is_platform_staff_not_an_auditor(world):
    assert _listed(_client(SuperuserFactory(username="root"))) == {"event-none"}


def test_nobody_adds_changes_or_deletes_an_event_not_even_a_superuser(world):
    client = _client(SuperuserFactory(username="root"))
    event = SecurityEvent.objects.get(subject="event-none")
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}add/", {"kind": "login_failed", "subject": "forged"}).status_code == 403
    assert client.post(f"{LIST}{event.pk}/change/", {"subject": "rewritten"}).status_code == 403
    assert client.post(f"{LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    selected = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    client.post(LIST, selected)
    assert SecurityEvent.objects.filter(pk=event.pk, subject="event-none").exists()
    assert not SecurityEvent.objects.filter(subject="forged").exists()


def test_filters_and_search(world):
    people, tenants = world
    client = _client(people["auditor"])
    assert _listed(client, "?kind=login_failed") == {"event-none"}
    assert _listed(client, f"?tenant__id__exact={tenants['b'].pk}") == {"event-b"}
    assert _listed(client, f"?actor__id__exact={people['member_a'].pk}") == {"event-a"}
    assert _listed(client, "?q=192.0.2.10") == {"event-a", "event-none"}
    assert _listed(client, "?q=member-a") == {"event-a"}
    assert _listed(client, "?q=event-b") == {"event-b"}
    assert _listed(client, "?at__year=2026&at__month=3&at__day=1") == set(SUBJECTS)
    assert _listed(client, "?at__year=2025") == set()
    window = "?at__gte=2026-03-01+12:01:00%2B00:00&at__lt=2026-03-02+00:00:00%2B00:00"
    assert _listed(client, window) == {"event-b", "event-none"}
    choices = client.get(LIST).content.decode()
    assert "tenant-a" in choices and "tenant-b" in choices and "member-a" in choices


def test_the_list_reads_a_constant_number_of_queries(world):
    people, tenants = world
    client = _client(people["auditor"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    few = queries()
    for n in range(40):
        audit_record(
            kind=Kind.GROUP_CHANGED, actor=people["member_a"], subject=f"more-{n}",
            tenant=tenants["a" if n % 2 else "b"],
        )
    assert queries() == few
    assert SecurityEvent.objects.filter(at__gte=datetime(2026, 3, 2, tzinfo=UTC)).count() >= 40
