"""Admin for budgets (limit per tenant / connector / period) and the usage events counted against them."""

from django.contrib import admin

from policies.models import BudgetPolicy, UsageEvent
from workbench.kit.admin import HistoryAdmin, NoteAdmin, ReadOnlyAdmin, RowAdmin


@admin.register(BudgetPolicy)
class BudgetPolicyAdmin(HistoryAdmin, RowAdmin):
    list_display = ["budget_id", "tenant_scope", "connector_scope", "period", "limit", "unit", "active"]
    list_filter = ["active", "period", "unit", ("tenant", admin.RelatedOnlyFieldListFilter),
                   ("connector", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant", "connector"]
    search_fields = ["budget_id", "tenant__slug", "connector__connector_id"]
    autocomplete_fields = ["tenant", "connector"]
    fields = ["budget_id", "tenant", "connector", "period", "limit", "unit", "active"]
    identity_fields = ("budget_id",)

    @admin.display(description="tenant", ordering="tenant__slug")
    def tenant_scope(self, obj):
        return obj.tenant.slug if obj.tenant_id else "every tenant"

    @admin.display(description="connector", ordering="connector__connector_id")
    def connector_scope(self, obj):
        return obj.connector.connector_id if obj.connector_id else "every connector"


@admin.register(UsageEvent)
class UsageEventAdmin(NoteAdmin, ReadOnlyAdmin):
    """Read-only: usage is append-only and written by the tool gateway."""

    admin_note = "Read-only: one usage event per costed call, appended by the tool gateway."

    list_display = ["occurred_at", "action_name", "tenant", "user", "connector", "cost", "unit", "call_id"]
    list_filter = ["unit", ("tenant", admin.RelatedOnlyFieldListFilter),
                   ("connector", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["tenant", "user", "connector"]
    search_fields = ["action_name", "call_id", "user__username", "tenant__slug"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["uid"]
