"""What the connector's admin page shows about its latest published version: each scope with its firearm
decision and the KPIs it moves. One query per kind (scopes, firearm bindings, KPI bindings), whatever the
number of scopes."""

from dataclasses import dataclass, field

from policies.models import FirearmBinding, KpiToolBinding
from registries.models import Scope


@dataclass
class ScopePolicy:
    scope: Scope
    #: the bound firearm, or None: a published scope without a binding was published with the explicit
    #: decision "no firearm" (NONE), since publish needs a decision for every scope
    firearm: object = None
    kpis: list = field(default_factory=list)  # KpiToolBinding rows, by kpi_id


def latest_scopes_with_policy(connector):
    """[ScopePolicy] of the connector's latest published version, by scope name ([] if unpublished)."""
    if connector.latest_spec_id is None:
        return []
    rows = {
        f"{connector.connector_id}:{scope.name}": ScopePolicy(scope=scope)
        for scope in Scope.objects.filter(spec_id=connector.latest_spec_id).order_by("name")
    }
    if not rows:
        return []
    for binding in FirearmBinding.objects.filter(action_name__in=rows).select_related("firearm"):
        rows[binding.action_name].firearm = binding.firearm
    kpis = KpiToolBinding.objects.filter(action_name__in=rows).select_related("kpi").order_by("kpi__kpi_id")
    for binding in kpis:
        rows[binding.action_name].kpis.append(binding)
    return list(rows.values())
