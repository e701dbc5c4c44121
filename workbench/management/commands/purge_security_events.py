"""purge_security_events [--days N] [--dry-run]: keep the audit trail to its retention period. Run it daily
(cron or a systemd timer)."""

from django.conf import settings

from workbench.kit.commands import RefusalCommand
from workbench.services.audit import purge_security_events


class Command(RefusalCommand):
    help = (
        "Delete security events recorded longer ago than the retention period "
        "(settings.WORKBENCH_AUDIT_RETENTION_DAYS), in batches. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days instead (default {settings.WORKBENCH_AUDIT_RETENTION_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args, days=None, dry_run=False, **options):
        count, cutoff = purge_security_events(days=days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        before = f"{cutoff:%Y-%m-%dT%H:%M:%SZ}"
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} security event(s) recorded before {before}."))
