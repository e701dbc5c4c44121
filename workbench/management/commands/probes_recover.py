"""Mark lost probes failed: running past their deadline (their worker stopped), queued with no task left
to run them or past WORKBENCH_PROBE_QUEUE_SECONDS; and probe task rows left running by a dead worker.
`make run` runs it before it starts the worker; run it before starting a deployment's workers and now and
then (README "Sandbox probes"). Reads of a probe do the same, so this tidies what nobody looks at."""

from workbench.kit.commands import RefusalCommand
from workbench.services.probes import probes_fail_overdue


class Command(RefusalCommand):
    help = (
        "Mark lost sandbox probes failed: running past their deadline, or queued with no task left to run "
        "them or for longer than WORKBENCH_PROBE_QUEUE_SECONDS; and probe tasks left running by a dead "
        "worker."
    )

    def handle(self, *args, **options):
        count = probes_fail_overdue()
        self.stdout.write(f"{count} lost probe{'s' if count != 1 else ''} marked failed.")
