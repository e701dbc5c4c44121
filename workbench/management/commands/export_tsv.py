"""export_tsv KIND [--output PATH]: one of the three TSV exports, byte for byte what the API gives."""

import json
import tempfile

from django.core.management.base import CommandError

from workbench.exchange import EXPORTS
from workbench.kit.commands import RefusalCommand

NOTES_IN_MEMORY = 1024 * 1024  # bytes of notes kept in memory; more go to a temporary file


class Notes:
    """The export's notes, gathered while the file streams and printed after it (as before: the file
    first, then what is missing beside it). Past NOTES_IN_MEMORY they wait in a temporary file, so a
    registry where every route misses something still exports in flat memory."""

    def __init__(self):
        self.spool = tempfile.SpooledTemporaryFile(max_size=NOTES_IN_MEMORY, mode="w+", encoding="utf-8")

    def add(self, row, message):
        # One JSON string per line: a note keeps its exact text, line breaks included.
        self.spool.write(json.dumps(f"{row}: {message}") + "\n")

    def __iter__(self):
        self.spool.seek(0)
        for line in self.spool:
            yield json.loads(line)

    def close(self):
        self.spool.close()


class Command(RefusalCommand):
    help = (
        "Write a TSV export (KIND: connectors, policy-matrix or coverage) to stdout or --output PATH, "
        "streamed as rows are read. Notes such as missing dependencies go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS))
        parser.add_argument("--output", "-o", metavar="PATH", help="Write the file here instead of stdout.")

    def handle(self, *args, kind, output=None, **options):
        notes = Notes()
        try:
            self._export(EXPORTS[kind](note=notes.add), output)
            for note in notes:
                self.stderr.write(note)
        finally:
            notes.close()
        if output:
            self.stderr.write(f"Wrote {output}.")

    def _export(self, resource, output):
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
