"""Base of every management command here: a service's Refusal ends the command with its detail (and
each field or row error) on stderr and a non-zero exit status, never a traceback."""

from django.core.management.base import BaseCommand, CommandError

from workbench.kit.refusals import Refusal


def refusal_lines(refusal):
    """The refusal as a person reads it in a terminal: the detail, then each error it does not repeat."""
    lines = [refusal.detail]
    for entry in refusal.errors:
        text = f"{entry['field']}: {entry['message']}" if entry.get("field") else entry["message"]
        if text not in refusal.detail and entry["message"] not in refusal.detail:
            lines.append(f"  {text}")
    return lines


class RefusalCommand(BaseCommand):
    #: exit status of a refused command (argparse's usage errors exit 2, a crash 1)
    refused_exit_status = 3

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except Refusal as refusal:
            message = "\n".join(refusal_lines(refusal))
            raise CommandError(f"{message} [{refusal.code}]", returncode=self.refused_exit_status) from None
