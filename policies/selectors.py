"""Policy questions the tool gateway asks before a call runs (firearm, strategy lock, budget).

Each answers from the database at the moment of the call; nothing is cached between calls. The budget
rule that holds across processes is `policies.services.usage_charge`, which reads usage under the
budgets' row locks while recording the cost.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum

from policies.models import BudgetPolicy, FirearmBinding, FirearmGrant, StrategyLock, UsageEvent


def bound_firearm_columns(action_name_column):
    """Annotations naming the firearm bound to the action in `action_name_column` of the outer query:
    `bound_firearm_pk` (None when unbound) and `bound_firearm_key` (its firearm_id)."""
    bindings = FirearmBinding.objects.filter(action_name=OuterRef(action_name_column)).order_by()
    return {
        "bound_firearm_pk": Subquery(bindings.values("firearm_id")[:1]),
        "bound_firearm_key": Subquery(bindings.values("firearm__firearm_id")[:1]),
    }


def holds_firearm(*, firearm, user, tenant=None, at=None):
    """Does the caller hold an active grant of the firearm for the tenant the call is made for: given to
    them, to one of their groups, or to the tenant itself, within that tenant? A call made for no tenant
    holds no grant (every grant belongs to a tenant)."""
    if user is None or tenant is None:
        return False
    reach = (
        Q(principal_type=FirearmGrant.PrincipalType.USER, user_id=user.pk)
        | Q(principal_type=FirearmGrant.PrincipalType.GROUP, group__user=user.pk)
        | Q(principal_type=FirearmGrant.PrincipalType.TENANT)
    )
    return FirearmGrant.objects.active(at).filter(reach, firearm=firearm, tenant=tenant).exists()


def engaged_locks_covering(*, action_name, connector_id="", firearm_id=""):
    """Engaged strategy locks covering the action, its connector or its firearm."""
    return StrategyLock.objects.engaged().covering(
        action_name=action_name, connector_id=connector_id, firearm_id=firearm_id
    )


@dataclass(frozen=True)
class BudgetState:
    budget: BudgetPolicy
    used: Decimal
    period_start: object

    def refuses(self, cost):
        """Nothing left, or less left than the call costs."""
        return self.used >= self.budget.limit or self.used + cost > self.budget.limit


def budgets_applying(*, tenant, connector, unit):
    """Active budgets in `unit` for the caller's tenant (or every tenant) and the tool's connector
    (or every tool)."""
    tenant_match = Q(tenant__isnull=True) | Q(tenant=tenant) if tenant is not None else Q(tenant__isnull=True)
    connector_match = (
        Q(connector__isnull=True) | Q(connector=connector)
        if connector is not None
        else Q(connector__isnull=True)
    )
    return BudgetPolicy.objects.filter(tenant_match, connector_match, active=True, unit=unit)


def budget_usage(budget, *, at=None):
    """Sum of usage-event cost counted against the budget in its current period."""
    start = budget.period_start(at)
    events = UsageEvent.objects.filter(occurred_at__gte=start, unit=budget.unit)
    if budget.tenant_id is not None:
        events = events.filter(tenant_id=budget.tenant_id)
    if budget.connector_id is not None:
        events = events.filter(connector_id=budget.connector_id)
    used = events.aggregate(total=Sum("cost"))["total"] or Decimal("0")
    return BudgetState(budget=budget, used=used, period_start=start)
