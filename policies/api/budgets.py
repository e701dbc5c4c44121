"""Budget policies (editable) and usage events (append-only, written by the gateway: read-only here)."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from policies.models import BudgetPolicy, UsageEvent
from registries.models import Connector
from workbench.kit.api.serializers import RowSaveSerializer
from workbench.kit.api.viewsets import ReadOnlyRegistryViewSet, RowViewSet
from workbench.tenancy.models import Tenant


class BudgetPolicySerializer(RowSaveSerializer):
    tenant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(), required=False, allow_null=True,
        help_text="Tenant slug; null applies to every tenant.",
    )
    connector = serializers.SlugRelatedField(
        slug_field="connector_id", queryset=Connector.objects.all(), required=False, allow_null=True,
        help_text="Connector id; null applies to every connector and tool.",
    )

    class Meta:
        model = BudgetPolicy
        fields = ["budget_id", "tenant", "connector", "period", "limit", "unit", "active"]


class UsageEventSerializer(serializers.ModelSerializer):
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    connector = serializers.SlugRelatedField(slug_field="connector_id", read_only=True)

    class Meta:
        model = UsageEvent
        fields = [
            "uid", "occurred_at", "tenant", "user", "connector", "action_name", "call_id", "cost", "unit",
        ]
        read_only_fields = fields


class BudgetPolicyFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug.")
    connector = filters.CharFilter(field_name="connector__connector_id", help_text="Connector id.")

    class Meta:
        model = BudgetPolicy
        fields = ["budget_id", "tenant", "connector", "period", "active"]


class UsageEventFilter(filters.FilterSet):
    tenant = filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug.")
    connector = filters.CharFilter(field_name="connector__connector_id", help_text="Connector id.")
    user = filters.CharFilter(field_name="user__username")
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = UsageEvent
        fields = [
            "tenant", "connector", "user", "action_name", "call_id", "occurred_after", "occurred_before",
        ]


class BudgetPolicyViewSet(RowViewSet):
    """Spending limits per tenant / connector / period, addressed by budget_id. A tenant's budgets are
    written by its owners (and platform staff), read by its members; budgets without a tenant are the
    platform's."""

    lookup_field = "budget_id"
    serializer_class = BudgetPolicySerializer
    filterset_class = BudgetPolicyFilter
    ordering_fields = ["budget_id", "period", "limit"]
    search_fields = ["budget_id"]
    queryset = BudgetPolicy.objects.select_related("tenant", "connector")


class UsageEventViewSet(ReadOnlyRegistryViewSet):
    """One event per executed call, newest first, addressed by uid. Append-only: no writes here. You see
    your own calls and the calls made for tenants you are a member of; auditors see all."""

    lookup_field = "uid"
    serializer_class = UsageEventSerializer
    filterset_class = UsageEventFilter
    ordering_fields = ["occurred_at", "cost"]
    search_fields = ["action_name", "call_id"]
    queryset = UsageEvent.objects.select_related("tenant", "user", "connector")
