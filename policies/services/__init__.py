from .budgets import BudgetExhausted, usage_charge
from .grants import firearm_grant_approve, firearm_grant_create, firearm_grant_revoke
from .locks import strategy_lock_engage, strategy_lock_release, strategy_lock_update

__all__ = [
    "BudgetExhausted",
    "firearm_grant_approve",
    "firearm_grant_create",
    "firearm_grant_revoke",
    "strategy_lock_engage",
    "strategy_lock_release",
    "strategy_lock_update",
    "usage_charge",
]
