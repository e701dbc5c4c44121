"""The TSV dialect of PRODUCT.md section 6, in one place: how a value becomes a cell and a cell a value.

UTF-8, tab-separated, no quoting, one row per line ending in "\\n"; booleans `TRUE`/`FALSE`, no firearm
`NONE`, times UTC `YYYY-MM-DDTHH:MM:SSZ`, percentages whole numbers with `%`. With no quoting there is
no way to carry a tab or a line break inside a value, so a line that would contain one is refused
(`UnsafeCell`) instead of being written as a broken row.

Reading is forgiving only where spreadsheets differ harmlessly: a UTF-8 byte order mark, "\\r\\n" line
ends (Google Sheets writes them) and trailing blank lines are accepted; anything else that does not
line up with the header is reported by line number.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import tablib
from import_export import widgets
from import_export.formats.base_formats import Format

from workbench.kit import uploads

TRUE, FALSE, NONE = "TRUE", "FALSE", "NONE"
CONTENT_TYPE = "text/tab-separated-values; charset=utf-8"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


class UnsafeCell(ValueError):
    """A value holds a tab or a line break, which this TSV cannot carry."""


class TsvFormatError(ValueError):
    """The file is not a table: a line does not have as many cells as the header, or no header."""


def check_cell(value):
    """`value` unchanged, or UnsafeCell if it holds a tab or any line break (str.splitlines' set)."""
    if _BREAKS.search(value):
        raise UnsafeCell(f"{value!r} holds a tab or a line break, which a TSV cell cannot carry.")
    return value


def line(cells):
    """One row as a line: cells joined by tabs, ending in "\\n"; refuses a cell with a tab or break."""
    text = "\t".join(cells)
    # Two C-level scans of the joined line instead of a regex per cell (the hot path of a
    # 1,000,000-row export): a clean line has len(cells) - 1 tabs and, those aside, only printable
    # characters; every line break is unprintable. Only a suspicious line is checked cell by cell.
    if text.count("\t") != len(cells) - 1 or not text.replace("\t", " ").isprintable():
        for cell in cells:
            check_cell(cell)
    return text + "\n"


def block(rows, renders, passthrough):
    """Many rows as lines at once, formatted column by column: `renders[i]` formats column i, or is
    skipped where `passthrough[i]` (the column's values are strings already). Same text as `line()`
    per row, with the same refusal of tabs and line breaks, at a fraction of the per-row cost."""
    width = len(renders)
    columns = list(zip(*rows, strict=True))
    if len(columns) != width:
        raise ValueError(f"Rows have {len(columns)} values, the export has {width} columns.")
    plan = list(zip(renders, passthrough, columns, strict=True))
    try:
        cells = [column if skip else list(map(render, column)) for render, skip, column in plan]
        text = "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"
    except TypeError:  # a passthrough column held a non-string (e.g. None): format every cell
        cells = [list(map(render, column)) for render, _, column in plan]
        text = "\n".join(map("\t".join, zip(*cells, strict=True))) + "\n"
    clean = (
        text.count("\t") == len(rows) * (width - 1)
        and text.count("\n") == len(rows)
        and text.replace("\t", " ").replace("\n", " ").isprintable()
    )
    if not clean:
        for row_cells in zip(*cells, strict=True):
            line(row_cells)
    return text


def time_cell(value):
    if value is None:
        return ""
    return value.astimezone(UTC).strftime(TIME_FORMAT)


# Control characters other than the tab and the line end: no cell may hold one (PostgreSQL cannot store a
# NUL, and none of them means anything in a sheet).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _control_characters(lines, header):
    found = []
    for number, text in enumerate(lines, start=1):
        for column, cell in enumerate(text.split("\t")):
            match = CONTROL.search(cell)
            if match:
                name = header[column] if column < len(header) else f"#{column + 1}"
                found.append(f"line {number}, column {name}: control character U+{ord(match.group()):04X}")
    return found


def parse(data):
    """A tablib Dataset from TSV text or UTF-8 bytes; TsvFormatError names every malformed line."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TsvFormatError(f"The file is not UTF-8 (byte {exc.start}).") from None
    lines = data.removeprefix("\ufeff").split("\n")
    lines = [text.removesuffix("\r") for text in lines]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise TsvFormatError("The file is empty: the first line must name the columns.")
    if len(lines) - 1 > uploads.max_rows():
        raise TsvFormatError(
            f"The file has {len(lines) - 1} rows; at most {uploads.max_rows()} are taken "
            "(WORKBENCH_UPLOAD_MAX_ROWS): split it."
        )
    header = lines[0].split("\t")
    problems = []
    if "" in header:
        problems.append("line 1: a column has no name")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"line 1: column {', '.join(repeated)} appears more than once")
    rows = []
    for number, text in enumerate(lines[1:], start=2):
        cells = text.split("\t")
        if len(cells) != len(header):
            what = "is empty" if text == "" else f"has {len(cells)} cells"
            problems.append(f"line {number} {what}, the header has {len(header)}")
        rows.append(cells)
    if CONTROL.search(data):
        problems += _control_characters(lines, header)
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise TsvFormatError(f"Not a table: {shown}{more}.")
    return tablib.Dataset(*rows, headers=header)


def render(headers, rows):
    """The whole file as text: the header line, then one line per row of cell strings."""
    return "".join([line(headers), *(line(cells) for cells in rows)])


class TsvFormat(Format):
    """django-import-export format for this dialect (tablib's own TSV quotes and ends lines in CRLF)."""

    def __init__(self, encoding=None):
        self.encoding = encoding

    def get_title(self):
        return "tsv"

    def get_extension(self):
        return "tsv"

    def get_content_type(self):
        return CONTENT_TYPE

    def get_read_mode(self):
        return "r"

    def is_binary(self):
        return False

    def can_import(self):
        return True

    def can_export(self):
        return True

    def create_dataset(self, in_stream, **kwargs):
        return parse(in_stream)

    def export_data(self, dataset, **kwargs):
        return render(dataset.headers, dataset)


# -- cells: django-import-export widgets, so a resource's fields say how each column reads and writes --


class TextCell(widgets.Widget):
    """Identifiers and short text; surrounding spaces (a spreadsheet habit) are dropped on import."""

    passthrough = True  # a string is written as it is

    def clean(self, value, row=None, **kwargs):
        return "" if value is None else str(value).strip()

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class IntCell(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not re.fullmatch(r"-?[0-9]+", text):
            raise ValueError(f"Expected a whole number, not {text!r}.")
        return int(text)

    def render(self, value, obj=None, **kwargs):
        return str(int(value))


class BoolCell(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip().upper()
        if text not in (TRUE, FALSE):
            raise ValueError(f"Expected TRUE or FALSE, not {value!r}.")
        return text == TRUE

    def render(self, value, obj=None, **kwargs):
        return TRUE if value else FALSE


class FirearmCell(widgets.Widget):
    """A firearm decision: a firearm id, or NONE for the explicit decision "no firearm" (None)."""

    def clean(self, value, row=None, **kwargs):
        from workbench.kit.identifiers import validate_firearm_id

        text = str(value or "").strip()
        if text.upper() == NONE:
            return None
        if not text:
            raise ValueError("Empty: write a firearm id, or NONE for no firearm.")
        if not validate_firearm_id.regex.match(text):
            raise ValueError(f"{text!r} is not a firearm id (firearm.<name>) or NONE.")
        return text

    def render(self, value, obj=None, **kwargs):
        return NONE if value is None else str(value)


class KpiCell(widgets.Widget):
    """A KPI a scope moves: a KPI id, or NONE for "this scope moves no KPI" (None)."""

    def clean(self, value, row=None, **kwargs):
        from workbench.kit.identifiers import validate_kpi_id

        text = str(value or "").strip()
        if text.upper() == NONE:
            return None
        if not text:
            raise ValueError("Empty: write a KPI id, or NONE for a scope that moves no KPI.")
        if not validate_kpi_id.regex.match(text):
            raise ValueError(f"{text!r} is not a KPI id (kpi.<name>) or NONE.")
        return text

    def render(self, value, obj=None, **kwargs):
        return NONE if value is None else str(value)


class PercentCell(widgets.Widget):
    """A whole percentage with its sign: 75%."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not re.fullmatch(r"[0-9]{1,3}%", text) or int(text[:-1]) > 100:
            raise ValueError(f"Expected a whole percentage like 75%, not {text!r}.")
        return int(text[:-1])

    def render(self, value, obj=None, **kwargs):
        return f"{int(value)}%"


class TimeCell(widgets.Widget):
    """UTC time YYYY-MM-DDTHH:MM:SSZ; empty is no time."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"Expected a UTC time like 2026-01-07T12:00:00Z, not {text!r}.") from None

    def render(self, value, obj=None, **kwargs):
        return time_cell(value)


class DecimalCell(widgets.Widget):
    """A number with a decimal point; empty is no value (an open end of a corridor)."""

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"Expected a number like 12.5, not {text!r}.") from None
        if not number.is_finite():
            raise ValueError(f"Expected a finite number, not {text!r}.")
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        text = format(Decimal(value).normalize(), "f")
        return text
