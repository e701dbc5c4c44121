"""Imports through django-import-export: preview first, errors by row and column, all rows or none.

Every import resource here runs import-export's import_data in one transaction with
`rollback_on_validation_errors` forced on, so a single bad row (or a failure after the rows, such as
writing drafts) rolls every row back, in a dry run (the preview) and in the real run alike. Audited
rows always get their history row, with the importing user and the file name as the reason: rows
saved one by one through a service (`use_bulk = False`, the default here) through simple-history's
signals, plain rows written in bulk (policies.py) through simple-history's bulk helpers.

`ImportReport` (reports.py) is the one account of a run the admin preview, the command and the tests
read.
"""

from contextlib import contextmanager
from types import SimpleNamespace

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from import_export import resources, widgets
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import Error, RowResult
from simple_history.models import HistoricalRecords

from workbench.kit import access, uploads
from workbench.kit.exchange import tsv
from workbench.kit.exchange.reports import ImportReport, RowOutcome, messages_of
from workbench.kit.refusals import Refusal
from workbench.kit.rows import announce_write, history_reason

OUTCOMES = {
    RowResult.IMPORT_TYPE_NEW: "new",
    RowResult.IMPORT_TYPE_UPDATE: "update",
    RowResult.IMPORT_TYPE_SKIP: "unchanged",
    RowResult.IMPORT_TYPE_DELETE: "delete",
    RowResult.IMPORT_TYPE_INVALID: "error",
    RowResult.IMPORT_TYPE_ERROR: "error",
}


@contextmanager
def acting_user(user):
    """History rows written inside are attributed to `user` (what HistoryRequestMiddleware does for a
    request), for imports run from a command."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    if user is None or getattr(previous, "user", None) == user:
        yield
        return
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


class RefCell(widgets.ForeignKeyWidget):
    """A row referring to another row by its identifier (e.g. a firearm id); an unknown one is a
    ValueError naming it, so it is reported on its column. Lookups are cached for one import, and
    `preload` reads a whole column's in one query per 500 identifiers."""

    CHUNK = 500

    def __init__(self, model, field, **kwargs):
        super().__init__(model, field=field, **kwargs)
        self._cache = {}  # identifier -> row, or None for one looked up and not found

    def preload(self, values):
        """Look up every identifier among `values` (a column's cells) that is not known yet."""
        texts = sorted({str(value or "").strip() for value in values} - {""} - set(self._cache))
        for start in range(0, len(texts), self.CHUNK):
            chunk = texts[start : start + self.CHUNK]
            found = self.get_queryset(None, None).filter(**{f"{self.field}__in": chunk})
            rows = {str(getattr(instance, self.field)): instance for instance in found}
            self._cache.update((text, rows.get(text)) for text in chunk)

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        if text not in self._cache:
            try:
                self._cache[text] = self.get_queryset(value, row, **kwargs).get(**{self.field: text})
            except self.model.DoesNotExist:
                self._cache[text] = None
        if self._cache[text] is None:
            raise ValueError(f"No {self.model._meta.verbose_name} {text!r}.")
        return self._cache[text]


class PreloadingLoader(ModelInstanceLoader):
    """The stored rows a file names, read in one query per 500 identifiers instead of one per row.
    Cells that do not read (a bad identifier) are left for the row's own error."""

    CHUNK = 500

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        [name] = resource.get_import_id_fields()
        self.field = resource.fields[name]
        keys = set()
        for row in dataset.dict if dataset else []:
            try:
                key = self.field.clean(row)
            except (KeyError, ValueError, ObjectDoesNotExist):
                continue
            if key is not None:
                keys.add(key)
        keys, self.instances = list(keys), {}
        for start in range(0, len(keys), self.CHUNK):
            lookup = {f"{self.field.attribute}__in": keys[start : start + self.CHUNK]}
            for instance in self.get_queryset().filter(**lookup):
                self.instances[self.field.get_value(instance)] = instance

    def get_instance(self, row):
        if self.field.column_name not in row:
            return None
        return self.instances.get(self.field.clean(row))


class TsvImportResource(resources.ModelResource):
    """Base of the TSV imports: header check, all-or-nothing runs, errors mapped to columns."""

    #: name used by the command and the admin: firearms, firearm-grants, kpi-corridors, policy-matrix
    kind = ""
    #: permissions a user needs to import (admin and command)
    import_permissions: tuple[str, ...] = ()
    #: columns every file must have (the rest of the declared columns may be left out)
    required_columns: tuple[str, ...] = ()
    #: model field name -> column, where a model error names a field that is not a column's attribute
    error_columns: dict = {}

    class Meta:
        use_transactions = True
        use_bulk = False  # each row saved on its own, so simple-history writes its history row
        skip_unchanged = True
        report_skipped = True
        store_instance = True
        skip_html_diff = True  # the report lists changes by column; no HTML diff per row
        clean_model_instances = False  # the write service runs full_clean, once
        instance_loader_class = PreloadingLoader

    def __init__(self, *, user=None, tenant=None, file_name="", **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self.tenant = tenant
        self.file_name = file_name
        self.notes = []
        self._lines_by_key = {}

    @classmethod
    def get_display_name(cls):
        # What the admin's import form offers when a page takes several sheets.
        return f"{cls.kind}.tsv" if cls.kind else super().get_display_name()

    # -- columns --------------------------------------------------------------------------------

    def writes_model(self):
        """The model whose rows the import writes (the access table decides who may run it)."""
        return self._meta.model

    def columns(self):
        return [field.column_name for field in self.get_import_fields()]

    def column_for(self, name):
        if name in (NON_FIELD_ERRORS, None, ""):
            return ""
        if name in self.error_columns:
            return self.error_columns[name]
        for field_name, resource_field in self.fields.items():
            if name in (field_name, resource_field.attribute, resource_field.column_name):
                return resource_field.column_name
        return name

    def error_column(self, entry):
        """The column a service's field error (a Refusal's `errors` entry) is reported on."""
        return self.column_for(entry["field"])

    def header_problem(self, headers):
        headers = list(headers or [])
        known = self.columns()
        missing = [name for name in self.required_columns if name not in headers]
        unknown = [name for name in headers if name not in known]
        problems = []
        if missing:
            problems.append(f"missing column {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column {', '.join(unknown)}")
        if problems:
            return f"The header must name the columns {', '.join(known)}: {'; '.join(problems)}."
        return None

    def precondition_problem(self):
        """Why this import cannot run at all (e.g. no tenant chosen), or None."""
        return None

    def row_label(self, row):
        columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        return ":".join(str(row.get(column, "")) for column in columns)

    # -- the run ----------------------------------------------------------------------------------

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        self.user = kwargs.get("user") or self.user
        self.file_name = kwargs.get("file_name") or self.file_name
        problem = self.precondition_problem() or self.header_problem(dataset.headers)
        if problem:
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.append_base_error(Error(ValidationError(problem)))
        else:
            with acting_user(self.user):
                result = super().import_data(
                    dataset,
                    dry_run=dry_run,
                    raise_errors=raise_errors,
                    use_transactions=True,
                    collect_failed_rows=collect_failed_rows,
                    rollback_on_validation_errors=True,
                    **kwargs,
                )
        result.report = self.report(dataset, result, dry_run=dry_run)
        return result

    def import_data_inner(self, dataset, dry_run, *args, **kwargs):
        result = super().import_data_inner(dataset, dry_run, *args, **kwargs)
        written = {kind: result.totals.get(kind, 0) for kind in ("new", "update", "delete")}
        failed = result.has_errors() or result.has_validation_errors()
        if not dry_run and not failed and any(written.values()):
            # Still inside import_data's transaction: the announcement rolls back with the rows.
            detail = {"file": self.file_name, **written}
            announce_write(
                actor=self.user, model=self.writes_model(), action="import", reason=self.change_reason(),
                detail=detail,
            )
        return result

    def before_import(self, dataset, **kwargs):
        # The rows each reference column names (RefCell), read in one query per 500, not one per row.
        for resource_field in self.get_import_fields():
            widget = resource_field.widget
            if isinstance(widget, RefCell) and resource_field.column_name in (dataset.headers or ()):
                widget.preload(dataset[resource_field.column_name])

    def get_instance(self, instance_loader, row):
        # Identifier columns are read before import-export's own error handling: an unknown
        # reference there would otherwise be a crash with a traceback instead of a row error.
        errors = {}
        for name in self.get_import_id_fields():
            resource_field = self.fields[name]
            if resource_field.column_name not in row:
                continue
            try:
                resource_field.clean(row)
            except (ValueError, ObjectDoesNotExist) as exc:
                errors[resource_field.attribute] = str(exc)
        if errors:
            raise ValidationError(errors)
        self._refuse_repeats(row)
        return super().get_instance(instance_loader, row)

    def _refuse_repeats(self, row):
        """A file names each row once: a second row with the same identifier is an error."""
        columns = [self.fields[name].column_name for name in self.get_import_id_fields()]
        key = tuple(str(row.get(column) or "").strip() for column in columns)
        if not all(key):
            return
        line = self._row_number + 1
        first = self._lines_by_key.setdefault(key, line)
        if first != line:
            raise ValidationError({columns[-1]: f"{':'.join(key)} is already on line {first}."})

    def import_row(self, row, instance_loader, **kwargs):
        self._row_number = kwargs.get("row_number", 0)
        return super().import_row(row, instance_loader, **kwargs)

    def change_reason(self):
        name = f" {self.file_name}" if self.file_name else ""
        return history_reason(f"imported from TSV{name}")

    def before_save_instance(self, instance, row, **kwargs):
        instance._history_user = self.user
        instance._change_reason = self.change_reason()

    # -- the account ------------------------------------------------------------------------------

    def report(self, dataset, result, *, dry_run):
        report = ImportReport(kind=self.kind, dry_run=dry_run, notes=list(self.notes))
        for error in result.base_errors:
            report.file_errors.extend(messages_of(error.error))
        fields = self.get_import_fields()
        for index, (row_result, values) in enumerate(zip(result.rows, dataset.dict, strict=False)):
            outcome = RowOutcome(
                line=index + 2,
                outcome=OUTCOMES.get(row_result.import_type, row_result.import_type),
                label=self.row_label(values),
            )
            if row_result.validation_error is not None:
                error = row_result.validation_error
                items = error.message_dict.items() if hasattr(error, "error_dict") else [("", error.messages)]
                for name, messages in items:
                    outcome.errors.extend((self.column_for(name), message) for message in messages)
            for error in row_result.errors:
                if isinstance(error.error, Refusal) and error.error.errors:
                    # A service refused the row: its field errors land on their columns.
                    outcome.errors.extend(
                        (self.error_column(entry), entry["message"]) for entry in error.error.errors
                    )
                else:
                    outcome.errors.extend(("", message) for message in messages_of(error.error))
            # A model's clean() and its database constraint often say the same thing: say it once.
            outcome.errors = list(dict.fromkeys(outcome.errors))
            if row_result.import_type == RowResult.IMPORT_TYPE_UPDATE and row_result.original is not None:
                after = row_result.instance
                for resource_field in fields:
                    before_cell = resource_field.export(row_result.original)
                    after_cell = resource_field.export(after) if after is not None else ""
                    if before_cell != after_cell:
                        outcome.changes.append((resource_field.column_name, before_cell, after_cell))
            report.rows.append(outcome)
        return report


def run_import(resource, data, *, dry_run, file_name=""):
    """Parse `data` (TSV text or bytes) and import it with `resource`; an ImportReport either way
    (`report.ok` says whether it was written). 403 Refusal if the importing user may not import."""
    missing = [perm for perm in resource.import_permissions if not resource.user.has_perm(perm)]
    if missing:
        raise Refusal(
            403,
            "permission_denied",
            f"{resource.user.get_username()} may not import {resource.kind}: lacks {', '.join(missing)}.",
        )
    access.check_may_write(resource.user, resource.writes_model())
    uploads.check_size(len(data))
    try:
        dataset = tsv.parse(data)
    except tsv.TsvFormatError as exc:
        return ImportReport(kind=resource.kind, dry_run=dry_run, file_errors=[str(exc)])
    result = resource.import_data(dataset, dry_run=dry_run, file_name=file_name, user=resource.user)
    return result.report
