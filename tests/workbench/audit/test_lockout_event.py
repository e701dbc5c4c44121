"""One lockout is one locked_out event: axes announces a lockout again for every attempt it refuses,
and those attempts are login_failed events marked locked_out, not new lockouts."""

import pytest
from django.conf import settings
from django.test import Client

from tests.workbench.factories import StaffFactory
from workbench.models import SecurityEvent
from workbench.services.audit import Kind

pytestmark = pytest.mark.django_db


def test_only_the_attempt_reaching_the_limit_records_a_lockout():
    StaffFactory(username="alice")
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        client.post("/admin/login/", {"username": "alice", "password": "guess"})
    client.post("/admin/login/", {"username": "alice", "password": "pw-for-tests"})
    (lockout,) = SecurityEvent.objects.filter(kind=Kind.LOCKED_OUT)
    assert (lockout.subject, lockout.ip) == ("alice", "192.0.2.1")
    failed = SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED)
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 4
    assert failed.filter(detail__locked_out=True).count() >= 4
