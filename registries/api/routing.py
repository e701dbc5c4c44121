"""Routing Registry and engine route endpoints (plain rows, edited like in the admin)."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from registries.models import Connector, EngineRoute, RoutingConfig
from workbench.kit.api.serializers import RowSaveSerializer
from workbench.kit.api.viewsets import LOOKUP_NUMBER, RowViewSet


class RoutingConfigSerializer(RowSaveSerializer):
    class Meta:
        model = RoutingConfig
        fields = ["resource_kind", "backend_type", "options", "description"]


class EngineRouteSerializer(RowSaveSerializer):
    connector = serializers.SlugRelatedField(
        slug_field="connector_id", queryset=Connector.objects.all(), allow_null=True, required=False,
        help_text="Connector id of the MCP wrapper; null while the route is not wrapped.",
    )

    class Meta:
        model = EngineRoute
        fields = ["id", "pattern", "connector", "description"]


class RoutingConfigFilter(filters.FilterSet):
    class Meta:
        model = RoutingConfig
        fields = ["resource_kind", "backend_type"]


class EngineRouteFilter(filters.FilterSet):
    connector = filters.CharFilter(field_name="connector__connector_id", help_text="Connector id.")
    wrapped = filters.BooleanFilter(
        field_name="connector", lookup_expr="isnull", exclude=True, help_text="Has a wrapping connector."
    )

    class Meta:
        model = EngineRoute
        fields = ["pattern", "connector", "wrapped"]


class RoutingConfigViewSet(RowViewSet):
    """resource_kind -> backend_type, addressed by resource_kind."""

    lookup_field = "resource_kind"
    serializer_class = RoutingConfigSerializer
    filterset_class = RoutingConfigFilter
    ordering_fields = ["resource_kind", "backend_type"]
    search_fields = ["resource_kind", "backend_type", "description"]
    queryset = RoutingConfig.objects.all()


class EngineRouteViewSet(RowViewSet):
    """Engine routes and the connector wrapping each.

    Addressed by numeric id, not by pattern: patterns contain slashes (`/chat/*`). To find a route by
    its pattern, filter the list: `engine-routes/?pattern=/chat/*`.
    """

    serializer_class = EngineRouteSerializer
    filterset_class = EngineRouteFilter
    ordering_fields = ["pattern"]
    search_fields = ["pattern", "description"]
    queryset = EngineRoute.objects.select_related("connector")
    lookup_value_regex = LOOKUP_NUMBER
