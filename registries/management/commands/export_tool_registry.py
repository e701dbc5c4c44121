
from registries.services.tool_registry import render_registry, tool_registry_export
from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = "Export the tool registry as tools.registry.json (to stdout unless --output is given)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write; stdout when omitted.")

    def handle(self, *args, output=None, **options):
        text = render_registry(tool_registry_export())
        if not output:
            self.stdout.write(text, ending="")
            return
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        self.stderr.write(f"Wrote {output}.")
