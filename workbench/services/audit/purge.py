"""The retention purge: security events older than WORKBENCH_AUDIT_RETENTION_DAYS are deleted, in batches,
each batch its own short transaction, so a purge of millions of rows never holds one long lock."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workbench.kit.refusals import Refusal, field_error
from workbench.models.audit import SecurityEvent

BATCH_SIZE = 5000
#: The longest retention a purge takes (100 years); more would reach before the first date there is.
MAX_DAYS = 36500


def purge_security_events(*, days=None, dry_run=False, batch_size=BATCH_SIZE, now=None):
    """Delete the events recorded more than `days` (default: WORKBENCH_AUDIT_RETENTION_DAYS) days ago;
    with dry_run, count them and delete nothing. Returns (count, cutoff)."""
    days = settings.WORKBENCH_AUDIT_RETENTION_DAYS if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise Refusal.invalid([field_error("days", "invalid", "Keep events at least 1 day.")])
    if days > MAX_DAYS:
        raise Refusal.invalid([field_error("days", "too_large", f"Keep events at most {MAX_DAYS} days.")])
    if batch_size < 1:
        raise Refusal.invalid([field_error("batch_size", "invalid", "A batch holds at least 1 event.")])
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = SecurityEvent.objects.filter(at__lt=cutoff)
    if dry_run:
        return old.count(), cutoff
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(old.order_by("at", "id").values_list("pk", flat=True)[:batch_size])
            if not batch:
                return deleted, cutoff
            deleted += SecurityEvent.objects.filter(pk__in=batch).purge()
