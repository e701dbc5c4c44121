from .budgets import BudgetPolicy, UsageEvent
from .firearms import Firearm, FirearmBinding, FirearmGrant
from .kpis import KpiCorridor, KpiDefinition, KpiToolBinding
from .locks import StrategyLock

__all__ = [
    "BudgetPolicy",
    "Firearm",
    "FirearmBinding",
    "FirearmGrant",
    "KpiCorridor",
    "KpiDefinition",
    "KpiToolBinding",
    "StrategyLock",
    "UsageEvent",
]
