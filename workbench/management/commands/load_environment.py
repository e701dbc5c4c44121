
from workbench.kit.commands import RefusalCommand
from workbench.services.environments import environment_load


class Command(RefusalCommand):
    help = (
        "Bring the database to an environment's known state: seeds/ plus fixtures/NAME/, in one transaction. "
        "NAME is dev, staging, prod, or the path of a fixture file (e.g. from dump_environment)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--plan", action="store_true", help="Print what would change; write nothing.")

    def handle(self, *args, name, plan, **options):
        report = environment_load(name=name, plan=plan)
        for change in report.changes:
            self.stdout.write(str(change))
        for line in report.summary_lines():
            self.stdout.write(line)
        if not report.changed:
            self.stdout.write(
                self.style.SUCCESS(f"{name}: no changes; the database is already in this state.")
            )
        elif plan:
            self.stdout.write(
                self.style.WARNING(f"{name}: plan only, {len(report.changes)} change(s) not applied.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"{name}: loaded, {len(report.changes)} change(s)."))
