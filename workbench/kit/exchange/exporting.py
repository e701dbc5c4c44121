"""Exports: a django-import-export Resource names the columns and how each cell is written; rows are
read with values_list(...).iterator() and written as they are read, so an export of any size streams
in flat memory and a response starts before the last row is read.

The resource is the single definition: its declared Fields give the header (column_name, in
Meta.fields order), the source column (attribute, a values_list path) and the cell format (widget).
`export()` (import-export's own entry point, a tablib Dataset) and `stream()` (bytes) go through the
same `cell_rows()`, so every way out gives the same bytes.
"""

from itertools import islice

from import_export import resources

from workbench.kit.exchange import tsv

CHUNK_ROWS = 2000  # rows fetched per database round trip (server-side cursor on PostgreSQL)
BATCH_LINES = 500  # lines per chunk handed to the response: small chunks, few write calls


class TsvExport:
    """What the three exports of PRODUCT.md section 6 share; mixed into an import-export Resource."""

    #: name used by the API path, the command and the file name: connectors, policy-matrix, coverage
    kind = ""
    #: permissions a user needs to download the export (API and admin)
    export_permissions: tuple[str, ...] = ()

    def __init__(self, *, note=None, **kwargs):
        """`note(row, message)`, when given, receives the notes an export has about its rows (coverage:
        each missing dependency) as the rows are read for the file, so they cost no second reading."""
        super().__init__(**kwargs)
        self.note = note

    @property
    def filename(self):
        return f"{self.kind}.tsv"

    def get_queryset(self):
        """The model queryset the rows come from, ordered as the file is (override)."""
        raise NotImplementedError

    def restrict(self, queryset):
        """The export's rows limited to `queryset`'s rows (the admin's filtered or selected rows)."""
        return self.get_queryset().filter(pk__in=queryset.order_by().values("pk"))

    def export_fields(self):
        return self.get_export_fields()

    def headers(self):
        return self.get_export_headers()

    def source_rows(self, queryset):
        """Raw value tuples, one per row, aligned with export_fields() (override to add computed values)."""
        columns = [field.attribute for field in self.export_fields()]
        return queryset.values_list(*columns).iterator(chunk_size=CHUNK_ROWS)

    def cell_rows(self, within=None):
        """Rows as lists of cell strings, formatted by each field's widget; `within` (a queryset of the
        model, e.g. the admin's selection) limits the rows, None exports them all."""
        queryset = self.get_queryset() if within is None else self.restrict(within)
        formatters = [field.widget.render for field in self.export_fields()]
        for row in self.source_rows(queryset):
            yield [render(value) for render, value in zip(formatters, row, strict=True)]

    def lines(self, within=None):
        line = tsv.line
        for cells in self.cell_rows(within):
            yield line(cells)

    def stream(self, within=None):
        """The file as UTF-8 byte chunks: the header first (before any row is read), then one chunk per
        BATCH_LINES rows, formatted column by column (tsv.block) with the same widgets as cell_rows."""
        yield tsv.line(self.headers()).encode()
        queryset = self.get_queryset() if within is None else self.restrict(within)
        widgets = [field.widget for field in self.export_fields()]
        renders = [widget.render for widget in widgets]
        passthrough = [getattr(widget, "passthrough", False) for widget in widgets]
        rows = self.source_rows(queryset)
        while batch := list(islice(rows, BATCH_LINES)):
            yield tsv.block(batch, renders, passthrough).encode()

    def export(self, queryset=None, **kwargs):
        """import-export's export: a tablib Dataset of the same cells the stream writes."""
        import tablib

        dataset = tablib.Dataset(headers=self.headers())
        for cells in self.cell_rows(queryset):
            dataset.append(cells)
        return dataset


class TsvExportResource(TsvExport, resources.Resource):
    """An export-only resource."""
