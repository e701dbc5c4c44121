"""Coverage report export: engine_route, mcp_wrapper_status (DONE, PARTIAL, MISSING), policy_coverage.

One row per engine route, ordered by pattern. The rules that decide each row are written down in
workbench/selectors/coverage.py (a route whose wrapper declares a billing entitlement is PARTIAL: no
entitlement store exists); this module only lays them out as the TSV of PRODUCT.md section 6, whose three
columns stay as they are: the reasons go beside the file (to `note` while the rows stream, the API's
coverage list).
"""

from operator import itemgetter

from import_export.fields import Field

from registries.models import EngineRoute
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import TsvExportResource
from workbench.selectors.coverage import COVERAGE_PERMISSIONS, MISSING_DEPENDENCY, route_coverage

_CELLS = itemgetter(0, 1, 2)  # engine_route, status and percent: the first three fields of a RouteCoverage


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
        rows = route_coverage(queryset)
        if self.note is None:
            return map(_CELLS, rows)
        return self._noted(rows)

    def _noted(self, rows):
        """The rows' cells, handing (engine_route, missing dependency) to `note` as each row passes."""
        note = self.note
        for row in rows:
            for reason in row.reasons:  # most rows have none or one: no tuple built per row
                if reason.code == MISSING_DEPENDENCY:
                    note(row.engine_route, reason.message)
            yield _CELLS(row)
