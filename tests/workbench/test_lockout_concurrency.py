"""Failed sign-ins from several workers at once are all counted (PostgreSQL, real threads and commits):
axes' handler increments under a row lock with an F() expression, so no failure is lost and the lockout
engages at the limit, whatever the interleaving."""

import threading

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.test import Client

from tests.workbench.factories import StaffFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests"
LIMIT = settings.AXES_FAILURE_LIMIT
WORKERS = 4
ATTEMPTS_EACH = 6


def hammer(addresses):
    """Each worker posts ATTEMPTS_EACH wrong passwords for alice, all workers released at once; returns
    the statuses."""
    start = threading.Barrier(len(addresses))
    statuses, errors = [], []

    def worker(ip):
        try:
            client = Client()
            start.wait()
            for _ in range(ATTEMPTS_EACH):
                response = client.post(
                    "/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=ip
                )
                statuses.append(response.status_code)
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(ip,)) for ip in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return statuses


def counted():
    attempts = AccessAttempt.objects.filter(username="alice")
    return attempts.aggregate(total=Sum("failures_since_start"))["total"]


def assert_locked_at_the_limit(statuses):
    total = WORKERS * ATTEMPTS_EACH
    assert len(statuses) == total
    # Every failure counted: no increment lost to another worker's (the lockout keeps counting too).
    assert counted() == total
    # Only attempts counted below the limit were answered as a plain failed sign-in; the one reaching it
    # and every later one got the lockout page.
    assert statuses.count(200) <= LIMIT - 1
    assert statuses.count(429) == total - statuses.count(200)
    assert set(statuses) <= {200, 429}
    assert Client().post(
        "/admin/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    ).status_code == 429


def test_workers_on_one_counter_row_lose_no_failure(on_postgres):
    """Same address and User-Agent: every worker increments the same AccessAttempt row (and the first
    failures race to create it)."""
    StaffFactory(username="alice")
    assert_locked_at_the_limit(hammer(["10.0.0.1"] * WORKERS))
    assert AccessAttempt.objects.filter(username="alice", ip_address="10.0.0.1").count() == 1


def test_workers_from_different_addresses_add_up_for_the_username(on_postgres):
    StaffFactory(username="alice")
    assert_locked_at_the_limit(hammer([f"10.0.0.{number}" for number in range(1, WORKERS + 1)]))
