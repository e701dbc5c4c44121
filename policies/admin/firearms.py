"""Admin for the Firearms Policy: firearms, who holds them (grants) and which actions need them (bindings).

Grants are given and revoked only through policies.services, so each keeps who, when and why;
a grant itself is never edited or deleted."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from policies.exchange import FirearmGrantResource, FirearmResource
from policies.models import Firearm, FirearmBinding, FirearmGrant, active_grant
from policies.services import firearm_grant_approve, firearm_grant_create, firearm_grant_revoke
from workbench.kit import access
from workbench.kit.admin import (
    HistoryAdmin,
    NoteAdmin,
    ReadOnlyInline,
    RowAdmin,
    ServiceErrorsAdmin,
    adopt,
    model_perm,
    run_with_reason,
)
from workbench.kit.admin.exchange import TsvImportAdmin
from workbench.kit.refusals import Refusal
from workbench.tenancy.access import writable_tenants


class GrantStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("awaiting", "awaiting approval"), ("revoked", "revoked"),
                ("expired", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(at=now)
        if self.value() == "awaiting":
            return queryset.awaiting_approval(at=now)
        if self.value() == "revoked":
            return queryset.revoked()
        if self.value() == "expired":
            return queryset.expired(at=now)
        return queryset


class FirearmBindingInline(ReadOnlyInline):
    """Live bindings: written by publish (a draft's firearm decisions), shown here read-only."""

    model = FirearmBinding
    fields = ["action_name", "note", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "bindings (read-only: a draft's firearm decisions, published)"


class FirearmGrantInline(ReadOnlyInline):
    model = FirearmGrant
    template = "admin/policies/firearm/grants_inline.html"
    fields = ["principal_type", "principal_name", "status", "reason", "granted_by", "created_at",
              "expires_at"]
    readonly_fields = fields
    verbose_name_plural = "grants (read-only: grant and revoke from the grant list)"

    def get_queryset(self, request):
        related = ["user", "group", "tenant", "granted_by", "firearm"]
        return super().get_queryset(request).select_related(*related)

    @admin.display(description="principal")
    def principal_name(self, obj):
        return str(obj.principal)

    @admin.display(description="status")
    def status(self, obj):
        return obj.status()


class SeverityFilter(admin.SimpleListFilter):
    title = "firearm severity"
    parameter_name = "severity"

    def lookups(self, request, model_admin):
        return Firearm.Severity.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(firearm__severity=self.value())
        return queryset


@admin.register(Firearm)
class FirearmAdmin(TsvImportAdmin, HistoryAdmin, RowAdmin):
    tsv_import = FirearmResource
    list_display = ["firearm_id", "name", "severity", "active_grants", "bindings", "created_at"]
    list_filter = ["severity"]
    search_fields = ["firearm_id", "name", "description"]
    fields = ["firearm_id", "name", "severity", "description"]
    identity_fields = ("firearm_id",)
    inlines = [FirearmBindingInline, FirearmGrantInline]

    def get_queryset(self, request):
        readable = access.readable(request.user, FirearmGrant.objects.all()).values("pk")
        counted = active_grant(prefix="grants__") & Q(grants__in=readable)
        return super().get_queryset(request).annotate(
            active_grant_count=Count("grants", filter=counted, distinct=True),
            binding_count=Count("bindings", distinct=True),
        )

    def get_inlines(self, request, obj):
        # Grants are given from the grant form once the firearm exists.
        return self.inlines if obj is not None else []

    @admin.display(description="active grants", ordering="active_grant_count")
    def active_grants(self, obj):
        return obj.active_grant_count

    @admin.display(description="bindings", ordering="binding_count")
    def bindings(self, obj):
        return obj.binding_count


class ActionKindFilter(admin.SimpleListFilter):
    title = "action kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("scope", "connector scope"), ("tool", "registry tool")]

    def queryset(self, request, queryset):
        if self.value() == "scope":
            return queryset.filter(action_name__contains=":")
        if self.value() == "tool":
            return queryset.exclude(action_name__contains=":")
        return queryset


@admin.register(FirearmBinding)
class FirearmBindingAdmin(HistoryAdmin, RowAdmin):
    list_display = ["action_name", "firearm", "severity", "note", "created_at"]
    list_filter = [ActionKindFilter, "firearm", SeverityFilter]
    list_select_related = ["firearm"]
    search_fields = ["action_name", "firearm__firearm_id", "note"]
    fields = ["action_name", "firearm", "note"]
    identity_fields = ("action_name",)

    @admin.display(description="severity", ordering="firearm__severity")
    def severity(self, obj):
        return obj.firearm.severity


class FirearmGrantForm(forms.ModelForm):
    class Meta:
        model = FirearmGrant
        fields = ["firearm", "tenant", "principal_type", "user", "group", "reason", "expires_at"]
        help_texts = {
            "tenant": "The tenant the grant is given within; for a tenant grant, the tenant itself.",
            "principal_type": "For a user or group grant fill in the user or the group; a tenant grant "
            "goes to the tenant above.",
            "expires_at": "Empty: until revoked. A critical firearm's grant counts once a second person "
            "approves it (action on the list).",
        }


@admin.register(FirearmGrant)
class FirearmGrantAdmin(TsvImportAdmin, HistoryAdmin, NoteAdmin, ServiceErrorsAdmin):
    """Grants are added here (one by one, or from a TSV through firearm_grant_create) and then only
    revoked (action); an existing grant never changes."""

    tsv_import = FirearmGrantResource

    admin_note = (
        "A grant is never edited or deleted: revoke it with the \"Revoke selected grants\" action "
        "(a reason is asked for) and grant again."
    )

    form = FirearmGrantForm
    list_display = ["firearm", "tenant", "principal_type", "principal_name", "status", "reason", "granted_by",
                    "created_at", "expires_at", "revoked_at"]
    list_filter = [
        "firearm", "principal_type", GrantStatusFilter, ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["firearm", "user", "group", "tenant", "granted_by"]
    search_fields = ["firearm__firearm_id", "user__username", "group__name", "tenant__slug", "reason"]
    autocomplete_fields = ["user"]
    date_hierarchy = "created_at"
    actions = ["revoke_selected", "approve_selected"]
    change_fields = ["uid", "firearm", "tenant", "principal_type", "principal_name", "status", "reason",
                     "granted_by", "created_at", "expires_at", "needs_approval", "approved_at", "approved_by",
                     "revoked_at", "revoked_by", "revoke_reason"]

    def get_fields(self, request, obj=None):
        return self.change_fields if obj is not None else FirearmGrantForm.Meta.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tenant":
            # Only tenants where the user may grant (their own as owner; any, for platform staff).
            kwargs["queryset"] = writable_tenants(request.user, FirearmGrant)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.change_fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        # Revoking writes the grant's revoke fields: the plain change permission allows it (the service
        # checks the grant's tenant for each row).
        return model_perm(request, self.model._meta, "change") and access.may_write(request.user, self.model)

    has_approve_permission = has_revoke_permission

    @admin.display(description="principal")
    def principal_name(self, obj):
        return str(obj.principal)

    @admin.display(description="status")
    def status(self, obj):
        return obj.status()

    def save_model(self, request, obj, form, change):
        grant = self.call_service(
            firearm_grant_create,
            granted_by=request.user,
            **{name: form.cleaned_data.get(name) for name in FirearmGrantForm.Meta.fields},
        )
        adopt(obj, grant)

    @admin.action(description="Approve selected grants (critical firearms)", permissions=["approve"])
    def approve_selected(self, request, queryset):
        approved = 0
        for grant in queryset:
            try:
                firearm_grant_approve(grant=grant, approved_by=request.user)
            except Refusal as refusal:
                self.message_user(request, f"{grant}: {refusal.message}", messages.ERROR)
            else:
                approved += 1
        if approved:
            self.message_user(request, f"Approved {approved} grant(s).", messages.SUCCESS)

    @admin.action(description="Revoke selected grants", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        return run_with_reason(
            self, request, queryset, action="revoke_selected",
            apply=lambda grant, reason: firearm_grant_revoke(
                grant=grant, revoked_by=request.user, reason=reason
            ),
            title="Revoke selected grants", label="Reason",
            help_text="Why the grants are revoked; kept on each grant and in its history.",
            submit="Revoke", done="Revoked {count} grant(s).",
        )
