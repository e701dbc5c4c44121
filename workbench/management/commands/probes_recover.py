"""Mark running probes past their deadline failed: their worker stopped while running them. `make run` runs
it before it starts the worker; run it once before starting a deployment's workers (README "Sandbox
probes"). Reads of a probe do the same for that probe, so this only tidies what nobody looks at."""

from workbench.kit.commands import RefusalCommand
from workbench.services.probes import probes_fail_overdue


class Command(RefusalCommand):
    help = "Mark running sandbox probes past their deadline failed (their worker stopped while running them)."

    def handle(self, *args, **options):
        count = probes_fail_overdue()
        self.stdout.write(f"{count} lost probe{'s' if count != 1 else ''} marked failed.")
