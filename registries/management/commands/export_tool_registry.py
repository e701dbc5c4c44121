"""export_tool_registry [--output PATH]: tools.registry.json exactly as the last import took it."""

from registries.services.tool_registry import tool_registry_export_text
from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = (
        "Export the tool registry as tools.registry.json (to stdout unless --output is given): the file "
        "of the last import, byte for byte."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write; stdout when omitted.")

    def handle(self, *args, output=None, **options):
        text = tool_registry_export_text()
        if not output:
            self.stdout.write(text, ending="")
            return
        # newline="": the file's own line endings, untranslated.
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        self.stderr.write(f"Wrote {output}.")
