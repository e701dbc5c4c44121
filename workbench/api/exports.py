"""TSV downloads under /api/v1/exports/: connectors.tsv, policy-matrix.tsv and coverage.tsv, and the audit
trail's security-events.tsv (the events the caller may read).

Each answers `text/tab-separated-values; charset=utf-8`, streamed as rows are read, byte for byte the
file the admin export and `manage.py export_tsv` give. Authentication is required (token or admin
session), plus the view permissions of what the file shows (the resource's `export_permissions`).
Errors are problem+json whatever the request's Accept header says.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from workbench.exchange import EXPORTS
from workbench.exchange.security_events import SecurityEventResource
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.exchange.http import tsv_response
from workbench.kit.exchange.tsv import CONTENT_TYPE


class TsvExportSchema(ProblemAutoSchema):
    answers_not_acceptable = False  # negotiation is forced: a file or a problem, whatever Accept says


class CanExport(BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perms(view.resource_class.export_permissions)


class TsvExportView(APIView):
    resource_class = None
    permission_classes = [IsAuthenticated, CanExport]
    renderer_classes = [JSONRenderer]  # only problems are rendered; the file is a streamed response
    schema = TsvExportSchema()

    def perform_content_negotiation(self, request, force=False):
        # A client asking for text/tab-separated-values still gets its refusals as problem+json.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request):
        return tsv_response(self.resource_class())


def _documented(kind, summary, resource_class=None):
    resource_class = resource_class or EXPORTS[kind]
    return extend_schema(
        operation_id=f"exports_{kind.replace('-', '_')}_tsv",
        tags=["exports"],
        summary=summary,
        description=(
            f"Columns: {', '.join(resource_class().headers())}. "
            f"Needs the permissions {', '.join(resource_class.export_permissions)}."
        ),
        responses={
            (200, "text/tab-separated-values"): OpenApiResponse(OpenApiTypes.STR, description=CONTENT_TYPE)
        },
    )


class ConnectorsExportView(TsvExportView):
    resource_class = EXPORTS["connectors"]

    @_documented("connectors", "Connector registry: the latest published version of each connector")
    def get(self, request):
        return super().get(request)


class PolicyMatrixExportView(TsvExportView):
    resource_class = EXPORTS["policy-matrix"]

    @_documented("policy-matrix", "Policy matrix: one row per scope of each connector's latest version")
    def get(self, request):
        return super().get(request)


class CoverageExportView(TsvExportView):
    resource_class = EXPORTS["coverage"]

    @_documented("coverage", "Coverage report: one row per engine route")
    def get(self, request):
        return super().get(request)


class SecurityEventsExportView(TsvExportView):
    resource_class = SecurityEventResource

    @_documented(
        "security-events",
        "Security events: the audit trail the caller may read (their tenants'; all for auditors)",
        SecurityEventResource,
    )
    def get(self, request):
        return tsv_response(self.resource_class(user=request.user))
