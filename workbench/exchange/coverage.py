"""Coverage report export: engine_route, mcp_wrapper_status (DONE, PARTIAL, MISSING), policy_coverage.

One row per engine route, ordered by pattern. The rules that decide each row are written down in
workbench/selectors/coverage.py (a route whose wrapper declares a billing entitlement is PARTIAL: no
entitlement store exists); this module only lays them out as the TSV of PRODUCT.md section 6, whose three
columns stay as they are: the reasons go beside the file (`dependency_notes`, the API's coverage list).
"""

from operator import itemgetter

from import_export.fields import Field

from registries.models import EngineRoute
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import TsvExportResource
from workbench.selectors.coverage import COVERAGE_PERMISSIONS, route_coverage


class CoverageResource(TsvExportResource):
    kind = "coverage"
    export_permissions = COVERAGE_PERMISSIONS

    engine_route = Field(attribute="engine_route", column_name="engine_route", widget=tsv.TextCell())
    mcp_wrapper_status = Field(attribute="status", column_name="mcp_wrapper_status", widget=tsv.TextCell())
    policy_coverage = Field(attribute="percent", column_name="policy_coverage", widget=tsv.PercentCell())

    class Meta:
        fields = ("engine_route", "mcp_wrapper_status", "policy_coverage")

    def get_queryset(self):
        return EngineRoute.objects.all()

    def source_rows(self, queryset):
        # engine_route, status and percent are the first three fields of each RouteCoverage.
        return map(itemgetter(0, 1, 2), route_coverage(queryset))

    def dependency_notes(self, within=None):
        """(engine_route, missing dependency) for rows whose wrapper needs something that does not exist."""
        queryset = self.get_queryset() if within is None else self.restrict(within)
        for row in route_coverage(queryset):
            for reason in row.missing_dependencies:
                yield row.engine_route, reason.message
