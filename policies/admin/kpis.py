"""Admin for the KPI Registry: definitions with their corridor and the actions that move them."""

from django.contrib import admin
from django.db.models import Count

from policies.exchange import KpiCorridorResource
from policies.models import KpiCorridor, KpiDefinition, KpiToolBinding
from workbench.kit.admin import HistoryAdmin, ReadOnlyInline, RowAdmin
from workbench.kit.admin.exchange import TsvImportAdmin


def band(corridor):
    if corridor is None:
        return "-"
    low = "-inf" if corridor.lower is None else corridor.lower
    high = "+inf" if corridor.upper is None else corridor.upper
    return f"[{low}, {high}]"


class KpiCorridorInline(admin.StackedInline):
    model = KpiCorridor
    max_num = 1
    fields = [("critical_lower", "lower", "upper", "critical_upper"), "note"]
    verbose_name_plural = (
        "corridor (inside [lower, upper] is ok, outside is a warning, beyond critical is critical)"
    )


class KpiToolBindingInline(ReadOnlyInline):
    """Live bindings: written by publish (a draft's KPIs per scope), shown here read-only."""

    model = KpiToolBinding
    fields = ["action_name", "effect", "note"]
    readonly_fields = fields
    verbose_name_plural = "tool bindings (read-only: a draft's KPIs, published)"


class HasCorridorFilter(admin.SimpleListFilter):
    title = "corridor"
    parameter_name = "corridor"

    def lookups(self, request, model_admin):
        return [("yes", "has a corridor"), ("no", "no corridor")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(corridor__isnull=self.value() == "no")
        return queryset


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(HistoryAdmin, RowAdmin):
    list_display = ["kpi_id", "name", "unit", "direction", "corridor_band", "critical_band", "bindings"]
    list_filter = ["direction", HasCorridorFilter]
    list_select_related = ["corridor"]
    search_fields = ["kpi_id", "name", "description"]
    fields = ["kpi_id", "name", "unit", "direction", "description"]
    identity_fields = ("kpi_id",)
    inlines = [KpiCorridorInline, KpiToolBindingInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(binding_count=Count("tool_bindings"))

    @admin.display(description="corridor")
    def corridor_band(self, obj):
        return band(getattr(obj, "corridor", None))

    @admin.display(description="critical beyond")
    def critical_band(self, obj):
        corridor = getattr(obj, "corridor", None)
        if corridor is None or (corridor.critical_lower is None and corridor.critical_upper is None):
            return "-"
        low = "-inf" if corridor.critical_lower is None else corridor.critical_lower
        high = "+inf" if corridor.critical_upper is None else corridor.critical_upper
        return f"[{low}, {high}]"

    @admin.display(description="tool bindings", ordering="binding_count")
    def bindings(self, obj):
        return obj.binding_count


@admin.register(KpiCorridor)
class KpiCorridorAdmin(TsvImportAdmin, HistoryAdmin, RowAdmin):
    tsv_import = KpiCorridorResource
    list_display = ["kpi", "kpi_name", "critical_lower", "lower", "upper", "critical_upper"]
    list_filter = ["kpi__direction"]
    list_select_related = ["kpi"]
    search_fields = ["kpi__kpi_id", "kpi__name", "note"]
    fields = ["kpi", ("critical_lower", "lower", "upper", "critical_upper"), "note"]
    identity_fields = ("kpi",)

    @admin.display(description="KPI name", ordering="kpi__name")
    def kpi_name(self, obj):
        return obj.kpi.name


@admin.register(KpiToolBinding)
class KpiToolBindingAdmin(HistoryAdmin, RowAdmin):
    list_display = ["action_name", "kpi", "effect", "note", "created_at"]
    list_filter = ["effect", "kpi"]
    list_select_related = ["kpi"]
    search_fields = ["action_name", "kpi__kpi_id", "note"]
    fields = ["action_name", "kpi", "effect", "note"]
    identity_fields = ("action_name", "kpi")
