from .budgets import BudgetPolicy, UsageEvent
from .firearms import Firearm, FirearmBinding, FirearmGrant, active_grant
from .kpis import KpiCorridor, KpiDefinition, KpiToolBinding
from .locks import StrategyLock

__all__ = [
    "BudgetPolicy",
    "Firearm",
    "FirearmBinding",
    "FirearmGrant",
    "active_grant",
    "KpiCorridor",
    "KpiDefinition",
    "KpiToolBinding",
    "StrategyLock",
    "UsageEvent",
]
