"""The audit trail as TSV: the admin's export (button, filtered list, selected rows) and the API download
give the same bytes, the expected file for an auditor, and only their tenants' events to a member."""

import pytest
from django.test import Client

from tests.workbench.exchange_kit import body, expected
from tests.workbench.factories import token_client
from workbench.exchange.security_events import SecurityEventResource
from workbench.models import SecurityEvent

from .kit import SUBJECTS, fixed_events

pytestmark = pytest.mark.django_db

LIST = "/admin/workbench/securityevent/"
API = "/api/v1/exports/security-events.tsv"
KIND = "security-events"


@pytest.fixture
def world(rf):
    people, tenants = fixed_events(rf)
    clients = {name: token_client(user) for name, user in people.items()}
    # Creating those tokens recorded token_created events: keep only the three fixed events.
    SecurityEvent.objects.exclude(subject__in=SUBJECTS).purge()
    return people, clients


def _admin(user):
    client = Client()
    client.force_login(user)
    SecurityEvent.objects.exclude(subject__in=SUBJECTS).purge()  # the sign-in's own event
    return client


def _lines(data):
    return data.decode().splitlines()


def test_an_auditor_downloads_every_event_from_the_api_as_the_expected_file(world):
    _, clients = world
    response = clients["auditor"].get(API)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{KIND}.tsv"'
    assert body(response) == expected(KIND)


def test_the_admin_export_button_and_the_selected_rows_action_give_the_same_bytes(world):
    people, _ = world
    client = _admin(people["auditor"])
    assert body(client.get(f"{LIST}export/")) == expected(KIND)
    every = list(SecurityEvent.objects.values_list("pk", flat=True))
    selected = {"action": "export_tsv_selected", "_selected_action": every}
    assert body(client.post(LIST, selected)) == expected(KIND)
    header, *rows = _lines(expected(KIND))
    assert _lines(body(client.get(f"{LIST}export/?kind=login_failed"))) == [header, rows[2]]
    assert b"".join(SecurityEventResource(user=people["auditor"]).stream()) == expected(KIND)


@pytest.mark.parametrize(("who", "row"), [("member_a", 0), ("member_b", 1), ("platform", 2)])
def test_a_person_downloads_only_the_events_they_may_read(world, who, row):
    people, clients = world
    header, *rows = _lines(expected(KIND))
    assert _lines(body(clients[who].get(API))) == [header, rows[row]]
    assert _lines(body(_admin(people[who]).get(f"{LIST}export/"))) == [header, rows[row]]


def test_without_the_view_permission_there_is_no_download(world):
    people, clients = world
    response = clients["no_view"].get(API)
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"
    assert _admin(people["no_view"]).get(f"{LIST}export/").status_code == 403
    assert Client().get(API).status_code == 401
