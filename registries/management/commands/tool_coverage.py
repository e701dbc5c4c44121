import json

from django.conf import settings
from django.core.management.base import CommandError

from registries.services.tool_registry import coverage_markdown, tool_coverage, tool_registry_export
from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = (
        "Write registry_coverage.md: every tool of the registry, real (a handler exists) or not_configured."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            default=str(settings.BASE_DIR / "registry_coverage.md"),
            help="Where to write the report (default: registry_coverage.md at the project root); "
            "'-' for stdout.",
        )
        parser.add_argument(
            "--registry",
            help="Report on this tools.registry.json file instead of the stored registry.",
        )

    def handle(self, *args, output, registry=None, **options):
        if registry:
            try:
                with open(registry, encoding="utf-8") as handle:
                    document = json.load(handle)
                entries, version = document["tools"], document["version"]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise CommandError(f"Cannot read the registry {registry}: {error}") from None
        else:
            entries, version = None, tool_registry_export()["version"]
        rows = tool_coverage(entries)
        text = coverage_markdown(rows, version=version)
        if output == "-":
            self.stdout.write(text, ending="")
            return
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        real = sum(1 for row in rows if row.status == "real")
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}: {real} real, {len(rows) - real} not_configured.")
        )
