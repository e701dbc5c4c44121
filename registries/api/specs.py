"""Specs Registry endpoints: specs, connectors (with their versions) and scopes. Read-only: published
rows change only through drafts; the later changes, deprecating a spec version and transferring a
connector's ownership, have their own actions (platform staff)."""

from django.db.models import F, Prefetch, Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from registries.models import ComponentSpec, Connector, Scope
from registries.selectors import connectors_listed, scopes_listed
from registries.services import component_spec_deprecate, connector_transfer
from workbench.kit.api.viewsets import LOOKUP_NUMBER, ReadOnlyRegistryViewSet
from workbench.tenancy.models import Tenant

NEWEST_FIRST = ("-version_major", "-version_minor", "-version_patch")


class ComponentSpecSerializer(serializers.ModelSerializer):
    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    deprecated = serializers.SerializerMethodField(help_text="True once the version is deprecated.")

    class Meta:
        model = ComponentSpec
        fields = [
            "id", "spec_id", "version", "kind", "name", "description", "schema", "metadata",
            "published_at", "published_by", "deprecated", "deprecated_at", "deprecation_message",
        ]
        read_only_fields = fields

    def get_deprecated(self, spec) -> bool:
        return spec.deprecated_at is not None


class DeprecateSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=500, help_text="Why the version is deprecated and what to use instead."
    )


class ScopeSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Scope
        fields = ["name", "description", "tools"]
        read_only_fields = fields


class ScopeSerializer(serializers.ModelSerializer):
    connector = serializers.SlugRelatedField(slug_field="connector_id", read_only=True)
    version = serializers.CharField(source="spec.version", read_only=True)
    action_name = serializers.CharField(
        read_only=True, help_text="'<connector_id>:<scope>', the name bindings and locks use."
    )

    class Meta:
        model = Scope
        fields = ["id", "connector", "version", "spec", "name", "action_name", "description", "tools"]
        read_only_fields = fields


class ConnectorSerializer(serializers.ModelSerializer):
    latest_version = serializers.CharField(source="latest_spec.version", read_only=True, allow_null=True)
    published_at = serializers.DateTimeField(
        source="latest_spec.published_at", read_only=True, allow_null=True
    )
    deprecated = serializers.SerializerMethodField(help_text="True when the latest version is deprecated.")
    scope_count = serializers.IntegerField(read_only=True, help_text="Scopes of the latest version.")
    owner = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The tenant that drafts and publishes its versions."
    )

    class Meta:
        model = Connector
        fields = [
            "connector_id", "name", "description", "owner", "latest_spec", "latest_version", "published_at",
            "deprecated", "scope_count", "created_at",
        ]
        read_only_fields = fields

    def get_deprecated(self, connector) -> bool:
        return connector.latest_spec is not None and connector.latest_spec.deprecated_at is not None


class ConnectorDetailSerializer(ConnectorSerializer):
    scopes = ScopeSummarySerializer(source="latest_scopes", many=True, read_only=True)

    class Meta(ConnectorSerializer.Meta):
        fields = [*ConnectorSerializer.Meta.fields, "scopes"]
        read_only_fields = fields


class TransferSerializer(serializers.Serializer):
    tenant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(), help_text="The tenant that owns the connector next."
    )
    reason = serializers.CharField(trim_whitespace=True, help_text="Why the connector changes hands.")


class ComponentSpecFilter(filters.FilterSet):
    deprecated = filters.BooleanFilter(field_name="deprecated_at", lookup_expr="isnull", exclude=True)
    spec_class = filters.CharFilter(field_name="metadata__spec_class", help_text="e.g. mcp_connector")

    class Meta:
        model = ComponentSpec
        fields = ["spec_id", "kind", "version", "deprecated", "spec_class"]


class ConnectorFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Connector
        fields = ["connector_id", "name"]


class ScopeFilter(filters.FilterSet):
    connector = filters.CharFilter(field_name="connector__connector_id", help_text="Connector id.")
    version = filters.CharFilter(field_name="spec__version", help_text="Connector version, e.g. 1.2.0.")
    latest = filters.BooleanFilter(method="filter_latest", help_text="Only scopes of each latest version.")

    class Meta:
        model = Scope
        fields = ["connector", "version", "name", "latest"]

    def filter_latest(self, queryset, name, value):
        latest = Q(spec_id=F("connector__latest_spec_id"))
        return queryset.filter(latest) if value else queryset.exclude(latest)


class ComponentSpecViewSet(ReadOnlyRegistryViewSet):
    """Published component specs (all kinds). Deprecating a version needs the change permission."""

    lookup_value_regex = LOOKUP_NUMBER

    serializer_class = ComponentSpecSerializer
    filterset_class = ComponentSpecFilter
    ordering_fields = ["spec_id", "kind", "published_at"]
    search_fields = ["spec_id", "name", "description"]
    write_actions = ("deprecate",)
    action_permissions = {"deprecate": ["%(app_label)s.change_%(model_name)s"]}

    def get_queryset(self):
        return ComponentSpec.objects.select_related("published_by")

    @extend_schema(request=DeprecateSerializer, responses=ComponentSpecSerializer)
    @action(detail=True, methods=["post"])
    def deprecate(self, request, pk=None):
        """Mark this version deprecated, saying what to use instead (it stays readable and installable)."""
        spec = self.get_object()
        body = DeprecateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        component_spec_deprecate(spec=spec, message=body.validated_data["message"], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=spec.pk)).data)


class ConnectorViewSet(ReadOnlyRegistryViewSet):
    """Published MCP connectors by connector_id; the detail lists the scopes of the latest version."""

    lookup_field = "connector_id"
    filterset_class = ConnectorFilter
    ordering_fields = ["connector_id", "name", "created_at"]
    search_fields = ["connector_id", "name", "description"]
    action_permissions = {
        "versions": ["registries.view_connector", "registries.view_componentspec"],
        "transfer": ["registries.view_connector", "registries.change_connector"],
    }

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ConnectorDetailSerializer
        if self.action == "versions":
            return ComponentSpecSerializer
        return ConnectorSerializer

    def get_queryset(self):
        queryset = connectors_listed()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("scopes", queryset=Scope.objects.latest_published().order_by("name"),
                         to_attr="latest_scopes")
            )
        return queryset

    @extend_schema(responses=ComponentSpecSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request, connector_id=None):
        """Every published version of the connector, newest first, with its deprecation state."""
        connector = self.get_object()
        versions = connector.versions.select_related("published_by").order_by(*NEWEST_FIRST)
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=TransferSerializer, responses=ConnectorSerializer)
    @action(detail=True, methods=["post"], filter_backends=[])
    def transfer(self, request, connector_id=None):
        """Give the connector to another tenant (platform staff): its members draft and publish its next
        versions. Kept in the connector's history with who and why."""
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        connector = connector_transfer(connector=self.get_object(), user=request.user, **body.validated_data)
        return Response(ConnectorSerializer(self.get_queryset().get(pk=connector.pk)).data)


class ScopeViewSet(ReadOnlyRegistryViewSet):
    """Scopes of every published connector version; `?latest=true` keeps the latest versions only."""

    lookup_value_regex = LOOKUP_NUMBER

    serializer_class = ScopeSerializer
    filterset_class = ScopeFilter
    ordering_fields = ["name", "connector__connector_id"]
    search_fields = ["name", "description"]

    def get_queryset(self):
        return scopes_listed()
