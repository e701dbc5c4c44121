"""The account of one import run: one entry per data row with its line in the file (the header is line 1,
as a spreadsheet numbers it), its outcome (new, update, unchanged, error) and its errors by column; the
file's own errors and what the import wrote beyond its rows."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from workbench.kit.refusals import Refusal, field_error


def messages_of(error):
    if isinstance(error, ValidationError):
        return error.messages
    if isinstance(error, Refusal):
        return [entry["message"] for entry in error.errors] or [error.detail]
    return [str(error)]


@dataclass
class RowOutcome:
    line: int
    outcome: str
    label: str
    changes: list = field(default_factory=list)  # (column, before, after)
    errors: list = field(default_factory=list)  # (column or "", message)

    def describe(self):
        """'line 3: update github:admin_write (firearm_id: NONE -> firearm.external_write)'"""
        changes = "; ".join(
            f"{column}: {before or '(empty)'} -> {after}" for column, before, after in self.changes
        )
        return f"line {self.line}: {self.outcome} {self.label}" + (f" ({changes})" if changes else "")


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    rows: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what the import wrote beyond rows (e.g. drafts)

    @property
    def ok(self):
        return not self.file_errors and not any(row.outcome == "error" for row in self.rows)

    @property
    def written(self):
        return self.ok and not self.dry_run

    def totals(self):
        counts = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.outcome] = counts.get(row.outcome, 0) + 1
        return counts

    def summary(self):
        counts = ", ".join(f"{count} {name}" for name, count in self.totals().items())
        if not self.ok:
            return f"{counts}: nothing was written (every row must be valid)."
        if self.dry_run:
            return f"{counts}: preview only, nothing was written."
        return f"{counts}: written."

    def refusal(self):
        """The run as a 400 `import_invalid` refusal: the summary, one error per line and column."""
        errors = [field_error("file", "invalid", message) for message in self.file_errors]
        for row in self.rows:
            for column, message in row.errors:
                where = f"line {row.line}" + (f", column {column}" if column else "")
                errors.append(field_error(where, "invalid", message))
        return Refusal(400, "import_invalid", f"{self.kind}: {self.summary()}", errors=errors)

    def error_lines(self):
        """Every error as one line of text naming the line and column."""
        for message in self.file_errors:
            yield f"file: {message}"
        for row in self.rows:
            for column, message in row.errors:
                where = f"line {row.line}, column {column}" if column else f"line {row.line}"
                yield f"{where}: {message}"
