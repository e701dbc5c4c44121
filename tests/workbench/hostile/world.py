"""Real ids of the dev environment (see conftest.dev_world): every path parameter of the API names a real
row, so a hostile request reaches the view's parsing and validation instead of stopping at a 404."""


def real_ids():
    from policies.models import BudgetPolicy, Firearm, FirearmGrant, KpiCorridor, StrategyLock
    from registries.models import ComponentSpec, Connector, EngineRoute, RoutingConfig
    from workbench.models import WorkbenchDraft

    draft = WorkbenchDraft.objects.filter(status=WorkbenchDraft.Status.DRAFT).order_by("pk").first()
    corridor = KpiCorridor.objects.select_related("kpi").order_by("pk").first()
    return {
        "budgets": BudgetPolicy.objects.order_by("pk").first().budget_id,
        "connectors": Connector.objects.order_by("pk").first().connector_id,
        "drafts": draft.pk,
        "engine-routes": EngineRoute.objects.order_by("pk").first().pk,
        "firearm-grants": FirearmGrant.objects.order_by("pk").first().uid,
        "firearms": Firearm.objects.order_by("pk").first().firearm_id,
        "kpi-corridors": corridor.kpi.kpi_id,
        "kpis": corridor.kpi.kpi_id,
        "routing": RoutingConfig.objects.order_by("pk").first().resource_kind,
        "specs": ComponentSpec.objects.order_by("pk").first().pk,
        "strategy-locks": StrategyLock.objects.order_by("pk").first().name,
        "tools": "os.list_tasks",
    }


def fill(path, ids, value=None):
    """`path` with its parameter replaced by the real id of its collection (or by `value`)."""
    collection = path.removeprefix("/api/v1/").split("/", 1)[0]
    start, end = path.find("{"), path.find("}")
    if start < 0:
        return path
    return path[:start] + str(ids[collection] if value is None else value) + path[end + 1 :]
