from django.conf import settings
from django.core.management.base import CommandError

from registries.services.gateway.receipts import receipts_purge
from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = (
        "Delete tool receipts finished longer ago than the retention period "
        "(settings.WORKBENCH_RECEIPT_RETENTION_DAYS). Running calls are never purged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days instead (default {settings.WORKBENCH_RECEIPT_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        days = settings.WORKBENCH_RECEIPT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        count, cutoff = receipts_purge(days=days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {count} receipt(s) finished before {cutoff:%Y-%m-%dT%H:%M:%SZ}.")
        )
