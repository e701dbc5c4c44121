"""export_tsv KIND [--output PATH]: one of the three TSV exports, byte for byte what the API gives."""

from django.core.management.base import CommandError

from workbench.exchange import EXPORTS
from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = (
        "Write a TSV export (KIND: connectors, policy-matrix or coverage) to stdout or --output PATH, "
        "streamed as rows are read. Notes such as missing dependencies go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS))
        parser.add_argument("--output", "-o", metavar="PATH", help="Write the file here instead of stdout.")

    def handle(self, *args, kind, output=None, **options):
        resource = EXPORTS[kind]()
        if output:
            try:
                with open(output, "wb") as target:
                    for chunk in resource.stream():
                        target.write(chunk)
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        else:
            for chunk in resource.stream():
                self.stdout.write(chunk.decode(), ending="")
            self.stdout.flush()
        for engine_route, note in getattr(resource, "dependency_notes", list)():
            self.stderr.write(f"{engine_route}: {note}")
        if output:
            self.stderr.write(f"Wrote {output}.")
