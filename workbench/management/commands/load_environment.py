from django.conf import settings

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
        parser.add_argument(
            "--allow-demo-users",
            action="store_true",
            help="Outside debug, load an environment that installs logins with known passwords (dev) anyway.",
        )

    def handle(self, *args, name, plan, allow_demo_users, **options):
        report = environment_load(name=name, plan=plan, allow_demo_users=allow_demo_users)
        if report.demo_users and not settings.DEBUG:
            self.stderr.write(
                self.style.ERROR(
                    f"WARNING: {name} installs logins with KNOWN PASSWORDS: {', '.join(report.demo_users)}. "
                    "Anyone who reads the repository can sign in as them. Remove them before this serves "
                    "anyone."
                )
            )
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
