"""Admin for the Routing Registry (resource_kind -> backend_type) and the engine routes connectors wrap."""

from django.contrib import admin

from registries.models import EngineRoute, RoutingConfig
from workbench.kit.admin import RowAdmin


@admin.register(RoutingConfig)
class RoutingConfigAdmin(RowAdmin):
    list_display = ["resource_kind", "backend_type", "description"]
    list_filter = ["backend_type"]
    search_fields = ["resource_kind", "backend_type", "description"]
    identity_fields = ("resource_kind",)


class WrappedFilter(admin.SimpleListFilter):
    title = "wrapped by a connector"
    parameter_name = "wrapped"

    def lookups(self, request, model_admin):
        return [("yes", "wrapped"), ("no", "not wrapped")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(connector__isnull=self.value() == "no")
        return queryset


@admin.register(EngineRoute)
class EngineRouteAdmin(RowAdmin):
    """Engine routes and the connector wrapping each; the coverage sheet is on the TSV exchange page."""

    list_display = ["pattern", "connector", "description"]
    list_filter = [WrappedFilter, ("connector", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["connector"]
    search_fields = ["pattern", "connector__connector_id", "description"]
    autocomplete_fields = ["connector"]
    identity_fields = ("pattern",)
