"""Connector registry export: the latest published version of each connector (PRODUCT.md section 6).

connector_id, version, scope_count (scopes of that version), firearms_required (TRUE when a
FirearmBinding names `<connector_id>:<scope>` for any scope of that version), published_at (UTC).
Connectors with no published version are not listed. Ordered by connector_id.
"""

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from import_export.fields import Field

from registries.models import Connector, Scope
from workbench.kit.exchange import tsv
from workbench.kit.exchange.exporting import TsvExportResource
from workbench.selectors.policy_matrix import in_byte_order, scope_bindings


class ConnectorRegistryResource(TsvExportResource):
    kind = "connectors"
    # firearms_required is read from the firearm bindings.
    export_permissions = ("registries.view_connector", "policies.view_firearmbinding")

    connector_id = Field(attribute="connector_id", column_name="connector_id", widget=tsv.TextCell())
    version = Field(attribute="latest_spec__version", column_name="version", widget=tsv.TextCell())
    scope_count = Field(attribute="latest_scope_total", column_name="scope_count", widget=tsv.IntCell())
    firearms_required = Field(
        attribute="latest_needs_firearm", column_name="firearms_required", widget=tsv.BoolCell()
    )
    published_at = Field(
        attribute="latest_spec__published_at", column_name="published_at", widget=tsv.TimeCell()
    )

    class Meta:
        fields = ("connector_id", "version", "scope_count", "firearms_required", "published_at")

    def get_queryset(self):
        latest_scopes = Scope.objects.filter(spec_id=OuterRef("latest_spec_id")).order_by()
        total = latest_scopes.values("spec_id").annotate(n=Count("pk")).values("n")
        bound = latest_scopes.filter(Exists(scope_bindings(OuterRef(OuterRef("connector_id")))))
        connectors = Connector.objects.filter(latest_spec__isnull=False).annotate(
            latest_scope_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
            latest_needs_firearm=Exists(bound),
        )
        return in_byte_order(connectors, "connector_id")
