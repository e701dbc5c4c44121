"""Admin mixins for the TSV exchange, on django-import-export's ExportMixin and ImportMixin.

Export: the changelist's "Export TSV" button downloads what the list shows (its filters and search
applied; unfiltered, the whole file) and the "Export selected ... (TSV)" action the selected rows,
both streamed, byte for byte what the API and `export_tsv` give for the same rows.

Import: import-export's flow (upload, a dry-run preview of every row as new / update / unchanged /
error with errors by line and column, then confirm), running the same resource as `import_tsv`.
Nothing is written unless every row is valid; a confirm that fails shows the report again. Between
preview and confirm the file travels in the confirm form itself (compressed, signed, valid for an
hour), not in one machine's temp folder, so any app server can take the confirm.
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core import signing
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from import_export.admin import ExportMixin, ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.signals import post_export, post_import
from import_export.tmp_storages import BaseStorage

from workbench.kit import access, uploads
from workbench.kit.admin.base import page_context
from workbench.kit.exchange.http import tsv_response
from workbench.kit.exchange.tsv import TsvFormat

CHANGE_LIST_TEMPLATE = "admin/workbench/exchange/change_list.html"


class UploadLost(ValueError):
    """The file of a preview cannot be read back at confirm (too old, or altered)."""


UPLOAD_SALT = "workbench.exchange.upload"
UPLOAD_MAX_AGE = 3600


def carry_upload(data):
    """`data` (bytes or text) as a value a confirm form can carry back: compressed (sheets and registry
    files shrink several times, so they fit the form body cap) and signed with SECRET_KEY, so what comes
    back is what was previewed, byte for byte."""
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    return signing.dumps(text, salt=UPLOAD_SALT, compress=True)


def carried_upload(value):
    """The bytes `carry_upload` gave `value` for; UploadLost when it is older than an hour or altered."""
    try:
        text = signing.loads(value or "", salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
    except signing.SignatureExpired:
        raise UploadLost("The preview is more than an hour old: upload the file again.") from None
    except signing.BadSignature:
        raise UploadLost("The uploaded file could not be read back: upload it again.") from None
    if not isinstance(text, str):
        raise UploadLost("The uploaded file could not be read back: upload it again.")
    return text.encode("utf-8", "surrogateescape")


class SignedUploadStorage(BaseStorage):
    """import-export's temporary storage, kept in the confirm form (`carry_upload`). Nothing stays on a
    machine's disk or in a process's memory between the steps."""

    def save(self, data):
        self.name = carry_upload(data)

    def read(self):
        return carried_upload(self.name)

    def remove(self):
        pass


class TsvExportAdmin(ExportMixin):
    """`tsv_export`: the export resource class (e.g. ConnectorRegistryResource)."""

    tsv_export = None
    skip_export_form = True  # one format, fixed columns: nothing to choose
    import_export_change_list_template = CHANGE_LIST_TEMPLATE

    def get_export_formats(self):
        return [TsvFormat]

    def get_export_resource_classes(self, request):
        return [self.tsv_export]

    def has_export_permission(self, request):
        return request.user.has_perms(self.tsv_export.export_permissions)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        post_export.send(sender=None, model=self.model)
        return tsv_response(self.tsv_export(), within=queryset)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "tsv_export_name": self.tsv_export().filename}
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        if self.has_export_permission(request):
            name = self.tsv_export().filename
            description = f"Export selected {self.model._meta.verbose_name_plural} ({name})"
            action = type(self).export_tsv_selected
            actions["export_tsv_selected"] = (action, "export_tsv_selected", description)
        return actions

    def export_tsv_selected(self, request, queryset):
        if not self.has_export_permission(request):
            messages.error(request, "You may not export these rows.")
            return None
        return self._do_file_export(None, request, queryset)


class CappedImportForm(ImportForm):
    """import-export's upload form, refusing a file over the upload cap before it is read."""

    def clean_import_file(self):
        return uploads.check_upload(self.cleaned_data.get("import_file"))


class TenantImportForm(CappedImportForm):
    """The import form of imports that write drafts: they belong to one of the user's tenants."""

    tenant = forms.ModelChoiceField(
        queryset=None,
        help_text="The drafts this import creates or updates belong to you in this tenant.",
    )

    def __init__(self, formats, resources, *, tenants, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.fields["tenant"].queryset = tenants
        only = list(tenants[:2])
        if len(only) == 1:
            self.fields["tenant"].initial = only[0].pk


class TenantConfirmImportForm(ConfirmImportForm):
    tenant = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput())

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        # Checked again at confirm: the tenant must still be one the user writes in.
        self.fields["tenant"].queryset = tenants


def sentence(note):
    """A report note ("created draft ...") as a message: capitalised, with a full stop."""
    return note[:1].upper() + note[1:] + "."


class TsvImportAdmin(ImportMixin):
    """`tsv_import`: the import resource class (e.g. FirearmResource); or `tsv_imports`, several, which
    the import form offers to choose from (those the user may run)."""

    tsv_import = None
    tsv_imports = ()
    import_template_name = "admin/workbench/exchange/import.html"
    import_export_change_list_template = CHANGE_LIST_TEMPLATE
    from_encoding = "utf-8-sig"
    tmp_storage_class = SignedUploadStorage

    @property
    def _import_classes(self):
        return tuple(self.tsv_imports) or (self.tsv_import,)

    @property
    def _needs_tenant(self):
        return any(getattr(resource_class, "needs_tenant", False) for resource_class in self._import_classes)

    def get_import_formats(self):
        return [TsvFormat]

    @staticmethod
    def _may_import(user, resource_class):
        return user.has_perms(resource_class.import_permissions) and access.may_write(
            user, resource_class().writes_model()
        )

    def get_import_resource_classes(self, request):
        # Only the imports this user may run are offered (and a forged choice is no valid choice).
        return [
            resource_class for resource_class in self._import_classes
            if self._may_import(request.user, resource_class)
        ] or [self._import_classes[0]]

    def has_import_permission(self, request):
        return any(self._may_import(request.user, resource_class) for resource_class in self._import_classes)

    def get_import_form_class(self, request):
        return TenantImportForm if self._needs_tenant else CappedImportForm

    def get_confirm_form_class(self, request):
        return TenantConfirmImportForm if self._needs_tenant else ConfirmImportForm

    def import_tenants(self, request):
        """Tenants an import that writes drafts may write into, for this user; the admin offering such
        an import says which (the kit knows no tenants)."""
        raise NotImplementedError(f"{type(self).__name__} offers a tenant import: define import_tenants().")

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        if self._needs_tenant:
            kwargs["tenants"] = self.import_tenants(request)
        return kwargs

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        if self._needs_tenant:
            kwargs["tenants"] = self.import_tenants(request)
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None and self._needs_tenant:
            initial["tenant"] = import_form.cleaned_data["tenant"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"user": request.user, "tenant": cleaned.get("tenant")}

    def get_import_data_kwargs(self, **kwargs):
        return {}

    def get_context_data(self, sheet=None, **kwargs):
        """The columns the upload form describes: of `sheet`, the import class the user chose (known when
        a confirm fails and the form is shown again), else of every sheet the page takes, each labelled
        with its file name. `fields_list` is import-export's own list (it fills it on the upload form, not
        on the page a failed confirm shows)."""
        classes = (sheet,) if sheet is not None else self._import_classes
        sheets = [
            {"name": each.get_display_name(), "columns": each().columns(), "required": each.required_columns}
            for each in classes
        ]
        return {
            "tsv_import_sheets": sheets,
            "fields_list": [(each["name"], each["columns"]) for each in sheets],
        }

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None)
        form = (context or {}).get("form")
        if form is not None and form.is_bound and not form.errors:
            # A preview: the form's help describes the sheet the user chose, not every sheet.
            context.update(self.get_context_data(sheet=self.choose_import_resource_class(form, request)))
        return response

    def _chosen_sheet(self, report):
        """The import class whose run gave `report` (the sheet the user chose)."""
        return next((each for each in self._import_classes if each.kind == report.kind), None)

    def _blank_import_form(self, request):
        kwargs = {**self.get_import_form_kwargs(request), "data": None, "files": None}
        return self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request), **kwargs
        )

    def add_data_read_fail_error_to_form(self, form, e):
        # The reader names the malformed lines; import-export's default only names the exception class.
        form.add_error("import_file", str(e) if isinstance(e, ValueError) else repr(e))

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except UploadLost as lost:
            messages.error(request, f"Nothing was imported: {lost}")
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import",
                                                current_app=self.admin_site.name))

    def post_import_messages(self, request, result):
        """What the user reads after a written import: the summary, then each note of the run."""
        messages.success(request, f"Imported: {result.report.summary()}")
        for note in result.report.notes:
            messages.info(request, sentence(note))

    def process_result(self, result, request):
        report = result.report
        if not report.ok:
            # The data changed between preview and confirm: nothing was written; show why.
            messages.error(request, f"Nothing was imported: {report.summary()}")
            context = page_context(
                self, request, "Import", **self.get_context_data(sheet=self._chosen_sheet(report)),
                result=result, form=self._blank_import_form(request),
            )
            return TemplateResponse(request, [self.import_template_name], context)
        if not self._needs_tenant:
            # A policy-matrix import changes drafts, not the scopes it lists: no scope log entries.
            self.generate_log_entries(result, request)
        self.post_import_messages(request, result)
        post_import.send(sender=None, model=self.model)
        return HttpResponseRedirect(
            reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist",
                    current_app=self.admin_site.name)
        )
