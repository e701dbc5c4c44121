"""Firearms and firearm bindings (action -> firearm)."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from policies.models import Firearm, FirearmBinding
from workbench.kit.api.serializers import RowSaveSerializer
from workbench.kit.api.viewsets import ReadOnlyRegistryViewSet, RowViewSet


class FirearmSerializer(RowSaveSerializer):
    class Meta:
        model = Firearm
        fields = ["firearm_id", "name", "description", "severity", "created_at"]


class FirearmBindingSerializer(RowSaveSerializer):
    firearm = serializers.SlugRelatedField(slug_field="firearm_id", queryset=Firearm.objects.all())

    class Meta:
        model = FirearmBinding
        fields = ["action_name", "firearm", "note", "created_at"]


class FirearmFilter(filters.FilterSet):
    class Meta:
        model = Firearm
        fields = ["firearm_id", "severity"]


class FirearmBindingFilter(filters.FilterSet):
    firearm = filters.CharFilter(field_name="firearm__firearm_id", help_text="Firearm id.")
    connector = filters.CharFilter(
        method="filter_connector", help_text="Bindings of this connector's scopes (connector id)."
    )

    class Meta:
        model = FirearmBinding
        fields = ["action_name", "firearm", "connector"]

    def filter_connector(self, queryset, name, value):
        return queryset.filter(action_name__startswith=f"{value}:")


class FirearmViewSet(RowViewSet):
    """Dangerous capabilities, addressed by firearm_id (e.g. firearm.external_write). A firearm that
    grants or bindings still use cannot be deleted (409 protected)."""

    lookup_field = "firearm_id"
    serializer_class = FirearmSerializer
    filterset_class = FirearmFilter
    ordering_fields = ["firearm_id", "name", "severity", "created_at"]
    search_fields = ["firearm_id", "name", "description"]
    queryset = Firearm.objects.all()


class FirearmBindingViewSet(ReadOnlyRegistryViewSet):
    """Which action needs which firearm, addressed by action_name (`github:admin_write`, `leads.create`).
    Live bindings change only through publish (and environment loads): every write method answers 405."""

    lookup_field = "action_name"
    serializer_class = FirearmBindingSerializer
    filterset_class = FirearmBindingFilter
    ordering_fields = ["action_name", "created_at"]
    search_fields = ["action_name", "note"]
    queryset = FirearmBinding.objects.select_related("firearm")
