"""KPI definitions, their corridors and which actions move which KPI."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from policies.models import KpiCorridor, KpiDefinition, KpiToolBinding
from workbench.kit.api.serializers import RowSaveSerializer
from workbench.kit.api.viewsets import LOOKUP_NUMBER, ReadOnlyRegistryViewSet, RowViewSet


class KpiDefinitionSerializer(RowSaveSerializer):
    class Meta:
        model = KpiDefinition
        fields = ["kpi_id", "name", "unit", "direction", "description"]


class KpiCorridorSerializer(RowSaveSerializer):
    kpi = serializers.SlugRelatedField(slug_field="kpi_id", queryset=KpiDefinition.objects.all())

    class Meta:
        model = KpiCorridor
        fields = ["kpi", "lower", "upper", "critical_lower", "critical_upper", "note"]


class KpiToolBindingSerializer(RowSaveSerializer):
    kpi = serializers.SlugRelatedField(slug_field="kpi_id", queryset=KpiDefinition.objects.all())

    class Meta:
        model = KpiToolBinding
        fields = ["id", "action_name", "kpi", "effect", "note", "created_at"]


class KpiDefinitionFilter(filters.FilterSet):
    class Meta:
        model = KpiDefinition
        fields = ["kpi_id", "direction", "unit"]


class KpiCorridorFilter(filters.FilterSet):
    kpi = filters.CharFilter(field_name="kpi__kpi_id", help_text="KPI id.")

    class Meta:
        model = KpiCorridor
        fields = ["kpi"]


class KpiToolBindingFilter(filters.FilterSet):
    kpi = filters.CharFilter(field_name="kpi__kpi_id", help_text="KPI id.")
    connector = filters.CharFilter(
        method="filter_connector", help_text="Bindings of this connector's scopes (connector id)."
    )

    class Meta:
        model = KpiToolBinding
        fields = ["action_name", "kpi", "effect", "connector"]

    def filter_connector(self, queryset, name, value):
        return queryset.filter(action_name__startswith=f"{value}:")


class KpiDefinitionViewSet(RowViewSet):
    """KPI definitions by kpi_id (e.g. kpi.change_failure_rate). A KPI with a corridor or tool
    bindings cannot be deleted (409 protected)."""

    lookup_field = "kpi_id"
    serializer_class = KpiDefinitionSerializer
    filterset_class = KpiDefinitionFilter
    ordering_fields = ["kpi_id", "name"]
    search_fields = ["kpi_id", "name", "description"]
    queryset = KpiDefinition.objects.all()


class KpiCorridorViewSet(RowViewSet):
    """The allowed band of a KPI, addressed by the KPI's id (one corridor per KPI)."""

    lookup_field = "kpi__kpi_id"
    lookup_url_kwarg = "kpi_id"
    serializer_class = KpiCorridorSerializer
    filterset_class = KpiCorridorFilter
    ordering_fields = ["kpi__kpi_id"]
    queryset = KpiCorridor.objects.select_related("kpi")


class KpiToolBindingViewSet(ReadOnlyRegistryViewSet):
    """Which action (connector scope or registry tool) moves which KPI, addressed by numeric id. Live
    bindings change only through publish (and environment loads): every write method answers 405."""

    serializer_class = KpiToolBindingSerializer
    filterset_class = KpiToolBindingFilter
    ordering_fields = ["action_name", "kpi__kpi_id", "created_at"]
    search_fields = ["action_name", "note"]
    queryset = KpiToolBinding.objects.select_related("kpi")
    lookup_value_regex = LOOKUP_NUMBER
