"""Charging a call's cost against the budgets that apply to it, held across processes by row locks."""

from django.db import transaction
from django.utils import timezone

from policies.models import UsageEvent
from policies.selectors import budget_usage, budgets_applying
from workbench.kit.refusals import Refusal


class BudgetExhausted(Refusal):
    """429 `budget_exhausted`: the charge would take `state.budget` past its limit; nothing was recorded."""

    def __init__(self, state, cost):
        budget = state.budget
        super().__init__(
            429,
            "budget_exhausted",
            f"Budget {budget.budget_id!r} is exhausted: {state.used.quantize(budget.limit)} of "
            f"{budget.limit} {budget.unit} used this {budget.period}; this call costs {cost}.",
            budget=budget.budget_id,
        )
        self.state = state
        self.cost = cost


def usage_charge(*, tenant, user, connector, action_name, call_id, cost, unit, at=None):
    """Record one call's cost as a usage event, or raise BudgetExhausted if any applying budget would
    go past its limit.

    The applying budget rows are locked (SELECT ... FOR UPDATE, in primary-key order so two charges
    never wait on each other crosswise) before their usage is summed, so concurrent charges against one
    budget take turns and each sees the events committed before it. The caller's transaction keeps the
    lock until it commits: call this in the transaction that commits whatever the charge pays for.
    """
    at = at or timezone.now()
    with transaction.atomic():
        budgets = budgets_applying(tenant=tenant, connector=connector, unit=unit)
        for budget in budgets.select_for_update().order_by("pk"):
            state = budget_usage(budget, at=at)
            if state.refuses(cost):
                raise BudgetExhausted(state, cost)
        event = UsageEvent(
            occurred_at=at,
            tenant=tenant,
            user=user,
            connector=connector,
            action_name=action_name,
            call_id=call_id,
            cost=cost,
            unit=unit,
        )
        # Fields only: constraints and foreign keys are the database's to enforce, without a query each on
        # the hot path.
        event.full_clean(
            exclude=["tenant", "user", "connector"], validate_unique=False, validate_constraints=False
        )
        event.save()
    return event
