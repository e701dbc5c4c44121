"""Pieces every admin here shares: site branding, the service write path, identity fields that freeze
after creation, read-only registries, history pages and actions that ask for a reason first."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from workbench.kit import access
from workbench.kit.forms import JSON_FORMFIELD
from workbench.kit.refusals import Refusal, as_validation_error
from workbench.kit.rows import row_delete, row_save

admin.site.site_header = "Connector Workbench"
admin.site.site_title = "Connector Workbench"
admin.site.index_title = "Registries, policies and drafts"


class NoteAdmin(admin.ModelAdmin):
    """`admin_note` is said on top of the list and the form: how rows of this kind change."""

    formfield_overrides = {models.JSONField: JSON_FORMFIELD}

    admin_note = ""
    change_list_template = "admin/workbench/change_list_with_note.html"
    change_form_template = "admin/workbench/change_form_with_note.html"


def primary_key(model, object_id):
    """`object_id` from an admin URL as the model's primary key, or None when it cannot be one (a letter in
    an integer id): a page about it is then not found, never a server error."""
    field = model._meta.pk
    try:
        return field.to_python(unquote(str(object_id)))
    except (ValidationError, ValueError, TypeError):
        return None


class AccessAdmin(admin.ModelAdmin):
    """The access table decides with the model permissions: lists show the rows the user may read; a
    change page addresses rows they may read or write; add, change and delete are offered only where
    the table lets them write (a platform row for platform staff, a tenant row for its writers), so
    everyone else sees the row read-only."""

    formfield_overrides = {models.JSONField: JSON_FORMFIELD}

    def get_queryset(self, request):
        return access.readable(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        queryset = access.addressable(request.user, super().get_queryset(request))
        model = queryset.model
        field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
        try:
            object_id = field.to_python(object_id)
            return queryset.get(**{field.name: object_id})
        except (model.DoesNotExist, ValidationError, ValueError):
            return None

    def get_changelist_instance(self, request):
        # The date hierarchy builds a datetime from ?<field>__year= (and month, day): Django turns a date
        # that cannot be into its "bad lookup" page but lets a year past 9999 overflow into a 500.
        try:
            return super().get_changelist_instance(request)
        except OverflowError as error:
            raise BadRequest("The date in the address is out of range.") from error

    def history_view(self, request, object_id, extra_context=None):
        # A row that exists but that the user may not address is not found, as on every other page; so is
        # an id that cannot be one.
        pk = primary_key(self.model, object_id)
        if pk is None or (
            self.get_object(request, pk) is None and self.model._default_manager.filter(pk=pk).exists()
        ):
            raise Http404("No such row.")
        return super().history_view(request, object_id, extra_context)

    def _writes(self, request, obj):
        if obj is None:
            return access.may_write(request.user, self.model)
        return access.writable(request.user, self.model._default_manager.filter(pk=obj.pk)).exists()

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and access.may_write(request.user, self.model)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._writes(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._writes(request, obj)


class ServiceRefused(Exception):
    """A service refused a save the form had accepted; carries the refusal back to the form."""

    def __init__(self, refusal):
        super().__init__(refusal)
        self.refusal = refusal
        self.error = as_validation_error(refusal)


def add_errors_to_form(form, error):
    """Put a ValidationError (or a Refusal's errors) on the form: on its field when the form has it,
    otherwise on top."""
    if isinstance(error, Refusal):
        error = as_validation_error(error)
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            if field in form.fields:
                form.add_error(field, errors)
            else:
                for message in ValidationError(errors).messages:
                    form.add_error(None, message if field == "__all__" else f"{field}: {message}")
    else:
        form.add_error(None, error)


def model_perm(request, opts, action):
    """The user's plain model permission, whatever an admin's has_*_permission says."""
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


class ServiceErrorsAdmin(AccessAdmin):
    """A service's Refusal while saving becomes form errors on the same page, never a 500.

    The first attempt runs in the admin's transaction and is rolled back; the form is then shown again
    from the same POST data with the refusal as errors, so nothing the user typed is lost."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._service_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                add_errors_to_form(self, refusal)
                return cleaned

        return RefusedForm

    def call_service(self, service, **kwargs):
        try:
            return service(**kwargs)
        except Refusal as refusal:
            raise ServiceRefused(refusal) from refusal


class IdentityAdmin(admin.ModelAdmin):
    """`identity_fields` are typed once, on creation, and read-only afterwards."""

    identity_fields: tuple[str, ...] = ()
    formfield_overrides = {models.JSONField: JSON_FORMFIELD}

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [name for name in self.identity_fields if name not in readonly]
        return readonly


class IdentityInline:
    """Inline rows keep their `identity_fields` once saved; new rows in the same inline still take them."""

    identity_fields: tuple[str, ...] = ()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        frozen = self.identity_fields

        class IdentityForm(formset.form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if self.instance.pk is not None:
                    for name in frozen:
                        if name in self.fields:
                            self.fields[name].disabled = True

        formset.form = IdentityForm
        return formset


class RowAdmin(ServiceErrorsAdmin, IdentityAdmin):
    """Plain registry and policy rows: every admin write goes through workbench.kit.rows."""

    def save_model(self, request, obj, form, change):
        self.call_service(row_save, instance=obj, user=request.user)

    def delete_model(self, request, obj):
        row_delete(instance=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                row_delete(instance=obj, user=request.user)

    def save_formset(self, request, form, formset, change):
        for obj in formset.save(commit=False):
            self.call_service(row_save, instance=obj, user=request.user)
        for obj in formset.deleted_objects:
            self.call_service(row_delete, instance=obj, user=request.user)
        formset.save_m2m()


class ReadOnlyAdmin(AccessAdmin):
    """Rows written elsewhere (publish, the gateway): staff with the view permission can browse them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessInline:
    """An inline lists only the rows the user may read (another tenant's grants or members stay out of a
    platform row's page)."""

    formfield_overrides = {models.JSONField: JSON_FORMFIELD}

    def get_queryset(self, request):
        return access.readable(request.user, super().get_queryset(request))


class ReadOnlyInline(AccessInline, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """Policy rows keep their history (who, when, why) and show it; history is read, never replayed.

    simple-history's "revert" would save an old row straight back, past the services (an old
    engaged state, a revoked grant), so reverting is switched off: change the row instead."""

    def revert_disabled(self, request, obj=None):
        return True

    def _check_history_access(self, request, object_id):
        # simple-history falls back to the history of a row the user's queryset does not hold (meant
        # for deleted rows): another tenant's row would show. A row that exists must be addressable; a
        # deleted one's history is for those who may read every row of the model.
        pk = primary_key(self.model, object_id)
        if pk is None:
            raise Http404("No such row.")
        if self.get_object(request, pk) is not None:
            return
        if self.model._default_manager.filter(pk=pk).exists() or not access.reads_deleted(
            request.user, self.model
        ):
            raise Http404("No such row.")

    def history_view(self, request, object_id, extra_context=None):
        self._check_history_access(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("History is read-only; change the current row instead.")
        self._check_history_access(request, object_id)
        if primary_key(self.model.history.model, version_id) is None:
            raise Http404("No such history row.")
        return super().history_form_view(request, object_id, version_id, extra_context)


def adopt(obj, saved):
    """Make the admin's unsaved form instance the row a service saved, so logging and redirects use it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db
    return obj


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), strip=True)


def page_context(model_admin, request, title, **extra):
    """The context of a page of `model_admin` beyond Django's own views: the site's context (header,
    sidebar, permissions), the model's opts for breadcrumbs, and a title."""
    request.current_app = model_admin.admin_site.name
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        **extra,
    }


def run_with_reason(
    modeladmin, request, queryset, *, action, apply, title, label, help_text="", submit, done, fields=None
):
    """An admin action that first asks for a reason on a confirmation page, then applies a service to
    each selected row; refusals are reported per row and do not stop the others. `fields` ({name: form
    field}) are asked for before the reason and passed to `apply(obj, reason, **values)`."""
    form = ReasonForm(request.POST if "confirm" in request.POST else None)
    extra = dict(fields or {})
    form.fields = {**extra, **form.fields}
    form.fields["reason"].label = label
    form.fields["reason"].help_text = help_text
    if form.is_bound and form.is_valid():
        applied = 0
        values = {name: form.cleaned_data[name] for name in extra}
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data["reason"], **values)
            except Refusal as refusal:
                modeladmin.message_user(request, f"{obj}: {refusal.message}", messages.ERROR)
            else:
                applied += 1
        if applied:
            modeladmin.message_user(request, done.format(count=applied), messages.SUCCESS)
        return None
    context = page_context(
        modeladmin,
        request,
        title,
        queryset=queryset,
        form=form,
        action=action,
        submit_label=submit,
        action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        media=modeladmin.media + form.media,
    )
    return TemplateResponse(request, "admin/workbench/action_with_reason.html", context)


def pre(value):
    """Monospace block for markdown, JSON and lists on read-only pages."""
    return format_html('<pre class="wb-pre">{}</pre>', value)
