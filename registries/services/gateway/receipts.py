"""Receipts past the retention period are purged; with them go their replays (a purged call runs again)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from registries.models import ToolReceipt


def receipts_purge(*, days, dry_run=False, now=None):
    """Delete receipts finished more than `days` ago; returns (count, cutoff). Running calls stay."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = ToolReceipt.objects.filter(finished_at__lt=cutoff).exclude(status=ToolReceipt.Status.RUNNING)
    if dry_run:
        return old.count(), cutoff
    with transaction.atomic():
        count, _ = old.delete()
    return count, cutoff
