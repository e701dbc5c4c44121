"""purge_security_events: events older than the retention period go, in batches; --dry-run counts them."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from workbench.models import SecurityEvent
from workbench.services.audit import Kind, audit_record, purge_security_events

pytestmark = pytest.mark.django_db


def _event(days_ago, subject):
    event = audit_record(kind=Kind.LOGIN_FAILED, subject=subject)
    # Backdated through a plain update of the base manager: the model's own API refuses any change.
    SecurityEvent._base_manager.filter(pk=event.pk).update(at=timezone.now() - timedelta(days=days_ago))
    return event


def _subjects():
    return sorted(SecurityEvent.objects.values_list("subject", flat=True))


def _run(*args):
    out = io.StringIO()
    call_command("purge_security_events", *args, stdout=out)
    return out.getvalue()


def test_the_purge_deletes_what_is_older_than_the_retention_and_keeps_the_rest(settings):
    settings.WORKBENCH_AUDIT_RETENTION_DAYS = 30
    for n in range(3):
        _event(31 + n, f"old-{n}")
    _event(29, "recent")
    assert "Would delete 3 security event(s)" in _run("--dry-run")
    assert _subjects() == ["old-0", "old-1", "old-2", "recent"]
    assert "Deleted 3 security event(s)" in _run()
    assert _subjects() == ["recent"]
    assert "Deleted 0 security event(s)" in _run()


def test_days_on_the_command_line_override_the_setting():
    _event(10, "ten-days")
    _event(1, "yesterday")
    _run("--days", "5")
    assert _subjects() == ["yesterday"]


def test_a_purge_runs_in_batches_until_nothing_old_is_left():
    for n in range(7):
        _event(400, f"old-{n}")
    count, _ = purge_security_events(days=365, batch_size=3)
    assert count == 7 and not SecurityEvent.objects.exists()


@pytest.mark.parametrize("days", ["0", "-3"])
def test_a_retention_under_a_day_is_refused_and_deletes_nothing(days):
    _event(400, "old")
    with pytest.raises(CommandError, match="at least 1 day"):
        _run("--days", days)
    assert _subjects() == ["old"]
