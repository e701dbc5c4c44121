"""What the admin index shows at a glance: registry counts, drafts by stage, coverage per engine route,
recent publishes, firearms with active grants and connectors with a missing dependency; quick links to
start a draft, import from an MCP server or import a TSV, for who may.

Each section is a fixed number of queries whatever the row counts, and appears only to users who
may view what it summarises (drafts: only those of the user's tenants).
"""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from policies.models import Firearm, FirearmBinding, FirearmGrant, KpiDefinition, StrategyLock, active_grant
from registries.models import (
    MCP_CONNECTOR_CLASS,
    ComponentSpec,
    Connector,
    EngineRoute,
    Scope,
    ToolDefinition,
)
from workbench.kit import access
from workbench.models import WorkbenchDraft
from workbench.selectors.coverage import (
    COVERAGE_PERMISSIONS,
    declares_entitlements,
    entitlement_reasons,
    route_coverage,
    seen_by,
    spec_entitlements,
)
from workbench.selectors.drafts import drafts_visible_to, tenants_of

ROUTES_SHOWN = 30
PUBLISHES_SHOWN = 8
FIREARMS_SHOWN = 10
DEPENDENCIES_SHOWN = 10
COVERAGE_PAGE = "admin:workbench_tsvexchange_coverage"  # every route with its reasons


@dataclass(frozen=True)
class Tile:
    label: str
    value: object
    url: str = ""
    detail: str = ""


def _changelist(model, query=""):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + (f"?{query}" if query else "")


def registry_counts(can, user):
    tiles = []
    if can("registries.view_connector"):
        tiles.append(Tile("published connectors", Connector.objects.filter(latest_spec__isnull=False).count(),
                          _changelist(Connector, "published=yes")))
    if can("registries.view_scope"):
        tiles.append(Tile("scopes (latest versions)", Scope.objects.latest_published().count(),
                          _changelist(Scope, "version=latest")))
    if can("registries.view_componentspec"):
        tiles.append(Tile("component specs", ComponentSpec.objects.count(), _changelist(ComponentSpec)))
    if can("registries.view_tooldefinition"):
        tiles.append(Tile("registry tools", ToolDefinition.objects.count(), _changelist(ToolDefinition)))
    if can("registries.view_engineroute"):
        tiles.append(Tile("engine routes", EngineRoute.objects.count(), _changelist(EngineRoute)))
    if can("policies.view_firearm"):
        tiles.append(Tile("firearms", Firearm.objects.count(), _changelist(Firearm)))
    if can("policies.view_firearmgrant"):
        # Grants are their tenants' rows: the user's tenants' (all of them for an auditor).
        tiles.append(Tile("active grants", access.readable(user, FirearmGrant.objects.active()).count(),
                          _changelist(FirearmGrant, "status=active")))
    if can("policies.view_firearmbinding"):
        tiles.append(Tile("firearm bindings", FirearmBinding.objects.count(), _changelist(FirearmBinding)))
    if can("policies.view_strategylock"):
        locks = StrategyLock.objects.aggregate(total=Count("pk"), engaged=Count("pk", filter=Q(engaged=True)))
        tiles.append(Tile("strategy locks", locks["total"], _changelist(StrategyLock),
                          f"{locks['engaged']} engaged"))
    if can("policies.view_kpidefinition"):
        tiles.append(Tile("KPIs", KpiDefinition.objects.count(), _changelist(KpiDefinition)))
    return tiles


def drafts_by_stage(user):
    """Open drafts of the user's tenants per stage, in stage order (zeros included)."""
    counts = dict(
        drafts_visible_to(user).filter(status=WorkbenchDraft.Status.DRAFT)
        .values_list("stage").annotate(n=Count("pk")).order_by()
    )
    tiles = []
    for stage, label in WorkbenchDraft.Stage.choices:
        url = _changelist(WorkbenchDraft, f"status__exact=draft&stage__exact={stage}")
        tiles.append(Tile(label, counts.get(stage, 0), url))
    return tiles


def coverage_bars(user, limit=ROUTES_SHOWN):
    """Coverage rows with their reasons; a draft wrapper the user may not read is just "draft", with
    generic reasons and no scope counts (`seen_by`)."""
    return seen_by(user, route_coverage(limit=limit))


def recent_publishes(limit=PUBLISHES_SHOWN):
    return list(
        ComponentSpec.objects.filter(kind=ComponentSpec.Kind.COMPONENT)
        .filter(metadata__spec_class=MCP_CONNECTOR_CLASS)
        .select_related("published_by")
        .order_by("-published_at", "-pk")[:limit]
    )


def firearms_with_active_grants(user, limit=FIREARMS_SHOWN):
    """Firearms by how many active grants of the user's tenants (every tenant, for an auditor) hold them."""
    readable = access.readable(user, FirearmGrant.objects.all()).values("pk")
    counted = active_grant(prefix="grants__") & Q(grants__in=readable)
    return list(
        Firearm.objects.annotate(active_grants=Count("grants", filter=counted))
        .filter(active_grants__gt=0)
        .order_by("-active_grants", "firearm_id")[:limit]
    )


def connectors_missing_dependencies(limit=DEPENDENCIES_SHOWN):
    """(connector, [reasons]) for latest versions that declare billing entitlements (coverage's reasons:
    no entitlement store exists, so each one is a missing dependency)."""
    found = []
    connectors = (
        Connector.objects.filter(declares_entitlements("latest_spec__"))
        .select_related("latest_spec").order_by("connector_id")
    )
    for connector in connectors[: limit * 2]:
        reasons = entitlement_reasons(spec_entitlements(connector.latest_spec.metadata))
        if reasons:
            found.append((connector, [reason.message for reason in reasons]))
    return found[:limit]


def quick_links(can, user, *, may_import_tsv=False):
    """Start a draft, import from an MCP server, import a TSV: each shown to who may do it (the draft
    pages need the add permission and a tenant where the user writes drafts; the TSV import is the
    exchange page's own answer, `may_import_tsv`, since its sheets are admin knowledge)."""
    if not can("workbench.add_workbenchdraft"):
        return []
    if not tenants_of(user, writable=True).exists():
        return []
    links = [
        Tile("Start a draft", "", reverse("admin:workbench_workbenchdraft_add"),
             "a new connector, or the next version of a live one"),
        Tile("Import from an MCP server", "", reverse("admin:workbench_workbenchdraft_import_mcp"),
             "a tools/list result and its package"),
    ]
    if may_import_tsv:
        links.append(Tile("Import a TSV", "", reverse("admin:workbench_tsvexchange_import"),
                          "policy matrix, firearm or KPI bindings, into drafts"))
    return links


def dashboard(user, *, may_import_tsv=False):
    """Everything the admin index shows for `user`; a section is None when the user may not see it."""
    perms = user.get_all_permissions() if user.is_active else set()

    def can(*names):
        return user.is_superuser or all(name in perms for name in names)

    return {
        "quick_links": quick_links(can, user, may_import_tsv=may_import_tsv),
        "counts": registry_counts(can, user),
        "drafts": drafts_by_stage(user) if can("workbench.view_workbenchdraft") else None,
        # Coverage is read from routes, scopes and firearm bindings: the same permissions as the API's
        # coverage list, the admin's coverage page and coverage.tsv, not just view_engineroute.
        "coverage": coverage_bars(user) if can(*COVERAGE_PERMISSIONS) else None,
        "routes_total": EngineRoute.objects.count() if can(*COVERAGE_PERMISSIONS) else 0,
        "routes_shown": ROUTES_SHOWN,
        "coverage_page": reverse(COVERAGE_PAGE) if can(*COVERAGE_PERMISSIONS) else "",
        "publishes": recent_publishes() if can("registries.view_componentspec") else None,
        "firearms": firearms_with_active_grants(user) if can("policies.view_firearm") else None,
        "dependencies": connectors_missing_dependencies() if can("registries.view_connector") else None,
    }
