"""Policies endpoints under /api/v1/: (prefix, viewset, basename)."""

from .budgets import BudgetPolicyViewSet, UsageEventViewSet
from .firearms import FirearmBindingViewSet, FirearmViewSet
from .grants import FirearmGrantViewSet
from .kpis import KpiCorridorViewSet, KpiDefinitionViewSet, KpiToolBindingViewSet
from .locks import StrategyLockViewSet

ROUTES = [
    ("firearms", FirearmViewSet, "firearm"),
    ("firearm-grants", FirearmGrantViewSet, "firearm-grant"),
    ("firearm-bindings", FirearmBindingViewSet, "firearm-binding"),
    ("strategy-locks", StrategyLockViewSet, "strategy-lock"),
    ("kpis", KpiDefinitionViewSet, "kpi"),
    ("kpi-corridors", KpiCorridorViewSet, "kpi-corridor"),
    ("kpi-tool-bindings", KpiToolBindingViewSet, "kpi-tool-binding"),
    ("budgets", BudgetPolicyViewSet, "budget"),
    ("usage-events", UsageEventViewSet, "usage-event"),
]
