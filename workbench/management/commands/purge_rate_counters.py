"""purge_rate_counters: delete the database's rate-limit counters whose window ended more than a day ago.
Run it daily (cron or a systemd timer), beside purge_security_events. With REDIS_URL the counters are
Redis keys that expire by themselves; the command then finds none."""

from workbench.kit.commands import RefusalCommand
from workbench.services.rate_limits import rate_counters_purge


class Command(RefusalCommand):
    help = "Delete rate-limit counters (database) whose window ended more than a day ago. Run it daily."

    def handle(self, *args, **options):
        count = rate_counters_purge()
        self.stdout.write(self.style.SUCCESS(f"Deleted {count} stale rate-limit counter(s)."))
