"""Numbers past the calendar are a clear command error, never an OverflowError traceback: a token's
--expiry-days and the audit purge's --days are capped at 100 years; the cap itself still works."""

import io

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from tests.workbench.factories import UserFactory
from workbench.models import SecurityEvent
from workbench.services.audit import Kind, audit_record

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize("days", ["99999999", "36501", "0", "-1"])
def test_a_token_expiry_past_the_cap_is_refused(days):
    UserFactory(username="alice")
    with pytest.raises(CommandError, match="--expiry-days must be a whole number of days from 1 to 36500"):
        run("create_api_token", "alice", "--expiry-days", days)
    assert not AuthToken.objects.exists()


def test_a_token_expiry_at_the_cap_is_made():
    UserFactory(username="alice")
    run("create_api_token", "alice", "--expiry-days", "36500")
    assert AuthToken.objects.get().expiry.year >= 2100


@pytest.mark.parametrize("days", ["1000000", "36501"])
def test_a_purge_retention_past_the_cap_is_refused(days):
    audit_record(kind=Kind.PLATFORM_WRITE, subject="kept")
    with pytest.raises(CommandError, match=r"days: Keep events at most 36500 days.*\[invalid\]|36500"):
        run("purge_security_events", "--days", days)
    assert SecurityEvent.objects.filter(subject="kept").exists()


def test_a_purge_retention_at_the_cap_runs():
    audit_record(kind=Kind.PLATFORM_WRITE, subject="kept")
    assert "Deleted 0 security event(s)" in run("purge_security_events", "--days", "36500")
