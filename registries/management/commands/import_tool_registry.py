from django.core.management.base import CommandError

from registries.services.tool_registry import parse_registry, tool_registry_import
from workbench.kit.access import SYSTEM
from workbench.kit.commands import RefusalCommand
from workbench.kit.uploads import read_file


class Command(RefusalCommand):
    help = (
        "Import tools.registry.json whole: validate every tool first; one invalid tool and nothing is "
        "written. Tools the file does not list are removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Path of the registry file, e.g. seeds/tools.registry.json.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show the plan; write nothing."
        )

    def handle(self, *args, path, dry_run, **options):
        try:
            content = read_file(path)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        # An operator at the deployment's shell: the registry is the platform's, and so is this command.
        plan = tool_registry_import(
            document=parse_registry(content), user=SYSTEM, source=path, dry_run=dry_run
        )
        for label, names in (("create", plan.created), ("update", plan.updated), ("remove", plan.removed)):
            for name in names:
                self.stdout.write(f"{label} {name}")
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run, nothing written: {plan.summary()}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {path}: {plan.summary()}."))
