"""GET /api/v1/coverage/: the coverage report as JSON, one object per engine route with its
`mcp_wrapper_status`, policy coverage, wrapper and the reasons it is not DONE (such as "missing
dependency: entitlement store" for a declared billing entitlement). The rows are coverage.tsv's, from
the same selector (workbench/selectors/coverage.py); the list is paginated like every other list, and
needs the permissions the coverage export needs. A draft wrapper is shown only to those who may read
the draft: to others it has no id, no scope counts and generic reasons (no entitlement names)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated

from registries.models import EngineRoute
from workbench.kit import access
from workbench.kit.api.permissions import ModelPermissions
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.selectors.coverage import (
    COVERAGE_PERMISSIONS,
    DRAFT_WRAPPER,
    HIDDEN_DRAFT,
    PUBLISHED_WRAPPER,
    REASON_CODES,
    STATUSES,
    CoverageReport,
)


class CoverageReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=REASON_CODES, help_text="Stable machine-readable reason.")
    message = serializers.CharField(help_text='E.g. "missing dependency: entitlement store (declares x)".')
    entitlement = serializers.CharField(
        allow_null=True, help_text="The billing entitlement nothing serves (missing_dependency), else null."
    )

    def to_representation(self, reason):
        return {"code": reason.code, "message": reason.message, "entitlement": reason.entitlement or None}


class CoverageWrapperSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[PUBLISHED_WRAPPER, DRAFT_WRAPPER])
    version = serializers.CharField(allow_null=True, help_text="The published version; null for a draft.")
    draft_id = serializers.CharField(
        allow_null=True, help_text="The open draft; null when published or when you may not read the draft."
    )


class RouteCoverageSerializer(serializers.Serializer):
    engine_route = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES, help_text="mcp_wrapper_status, as in coverage.tsv.")
    policy_coverage = serializers.IntegerField(
        min_value=0, max_value=100, help_text="Whole percent of the wrapper's scopes with a firearm decision."
    )
    decided_scopes = serializers.IntegerField(
        min_value=0, allow_null=True, help_text="Null for a draft wrapper you may not read."
    )
    scopes = serializers.IntegerField(
        min_value=0, allow_null=True, help_text="Null for a draft wrapper you may not read."
    )
    connector = serializers.CharField(allow_null=True, help_text="Connector id the route names, if any.")
    wrapper = CoverageWrapperSerializer(allow_null=True, help_text="What wraps the route; null: nothing.")
    reasons = CoverageReasonSerializer(many=True, help_text="Why the route is not DONE; empty when DONE.")

    def to_representation(self, row):
        wrapper = None
        if row.wrapper_kind == PUBLISHED_WRAPPER:
            wrapper = {"kind": PUBLISHED_WRAPPER, "version": row.wrapper, "draft_id": None}
        elif row.wrapper_kind == DRAFT_WRAPPER:
            draft_id = None if row.wrapper == HIDDEN_DRAFT else row.wrapper
            wrapper = {"kind": DRAFT_WRAPPER, "version": None, "draft_id": draft_id}
        return {
            "engine_route": row.engine_route,
            "status": row.status,
            "policy_coverage": row.percent,
            "decided_scopes": row.decided,
            "scopes": row.scopes,
            "connector": row.connector_id or None,
            "wrapper": wrapper,
            "reasons": CoverageReasonSerializer(row.reasons, many=True).data,
        }


class CoverageFilter(filters.FilterSet):
    connector = filters.CharFilter(field_name="connector__connector_id", help_text="Connector id.")

    class Meta:
        model = EngineRoute
        fields = ["pattern", "connector"]


class HasCoveragePermissions(BasePermission):
    """The permissions of the coverage export: coverage reads routes, scopes and firearm bindings."""

    def has_permission(self, request, view):
        return request.user.has_perms(COVERAGE_PERMISSIONS)


@extend_schema(tags=["coverage"])
class CoverageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Coverage report: one object per engine route, ordered by pattern (bytewise), as coverage.tsv."""

    queryset = EngineRoute.objects.all()
    serializer_class = RouteCoverageSerializer
    filterset_class = CoverageFilter
    filter_backends = [filters.DjangoFilterBackend]  # the order is the report's: by pattern
    permission_classes = [IsAuthenticated, ModelPermissions, HasCoveragePermissions]
    schema = ProblemAutoSchema()

    @extend_schema(
        summary="Coverage report: one object per engine route",
        description=(
            "Status (DONE, PARTIAL, MISSING), policy coverage, wrapper and the reasons a route is not DONE. "
            "A wrapper declaring a billing entitlement is PARTIAL with the reason \"missing dependency: "
            "entitlement store\": no entitlement store exists. "
            f"Needs the permissions {', '.join(COVERAGE_PERMISSIONS)}."
        ),
    )
    def list(self, request, *args, **kwargs):
        routes = self.filter_queryset(access.readable(request.user, self.get_queryset()))
        page = self.paginate_queryset(CoverageReport(request.user, routes))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
