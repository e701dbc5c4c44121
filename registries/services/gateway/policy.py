"""Admitting a new call: the policy checks a call must pass before it is charged and run.

A replay is answered before these (seed 002: "receipt exists for same call_id -> return existing
result"): it has no new effect, so nothing here applies to it. Each check is a selector of
`policies.selectors`, read at the moment of the call.
"""

from policies import selectors as policy
from policies.services import BudgetExhausted
from workbench.kit.refusals import Refusal


def admit(tool, *, user, tenant):
    """Refuse a new call of `tool` for `user` and `tenant`: 403 firearm_required, 423 strategy_locked,
    429 budget_exhausted (an early read without locks; the charge re-checks under row locks)."""
    firearm = policy.firearm_bound_to(tool.name)
    if firearm is not None and not policy.holds_firearm(firearm=firearm, user=user, tenant=tenant):
        raise Refusal(
            403,
            "firearm_required",
            f"{tool.name} needs the firearm {firearm.firearm_id}; ask for a grant.",
            firearm=firearm.firearm_id,
        )
    connector_id = tool.connector.connector_id if tool.connector_id else ""
    locks = policy.engaged_locks_covering(
        action_name=tool.name, connector_id=connector_id, firearm_id=firearm.firearm_id if firearm else ""
    )
    if locks:
        lock = locks[0]
        raise Refusal(
            423,
            "strategy_locked",
            f"{tool.name} is locked by strategy lock {lock.name!r}: {lock.reason}",
            lock=lock.name,
        )
    exhausted = policy.exhausted_budget(
        tenant=tenant, connector=tool.connector, cost=tool.cost, unit=tool.cost_unit
    )
    if exhausted is not None:
        raise BudgetExhausted(exhausted, tool.cost)
