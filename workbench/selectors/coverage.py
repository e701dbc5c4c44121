"""Coverage of the engine routes by MCP connectors: the rules of the coverage report, in one place.

Each engine route names at most one connector (EngineRoute.connector). That connector's *wrapper* is,
in this order:

1. its latest published version (Connector.latest_spec), if it has one;
2. otherwise its open draft: the most recently saved WorkbenchDraft with status `draft` and the
   same connector_id (of any tenant); a draft wraps a route only through the route's connector row,
   so link the route to the connector first;
3. otherwise nothing.

A scope has an explicit firearm decision when
- in a published version: a FirearmBinding names `<connector_id>:<scope>` (decision: that firearm),
  or the version was published from a workbench draft (its metadata has `draft_id`), whose
  validation required a firearm or NONE for every scope, a scope without binding being NONE;
  scopes of versions that came in any other way and have no binding are undecided;
- in a draft: `policy_snapshot.firearms` has a key for the scope (a firearm id, or null for NONE).

`policy_coverage` = decided scopes / scopes of the wrapper, as a whole percentage rounded down
(100% only when every scope is decided; a wrapper without scopes is 0%; no wrapper is 0%).

`mcp_wrapper_status`:
- DONE: the wrapper is a published version with at least one scope, all of them decided (100%);
- PARTIAL: the wrapper is a published version with an undecided scope or no scope at all, or the
  wrapper is only a draft (whatever its coverage: nothing is live yet);
- MISSING: no connector, or a connector with neither a published version nor an open draft.

Open drafts of every tenant count for the status and percentage (a route is being wrapped, whoever
does it); the dashboard names a draft only to members of its tenant.

Billing entitlements a wrapper declares (PRODUCT.md section 8) are reported as the missing dependency
"missing dependency: entitlement store" beside the row (dashboard, `export_tsv coverage` on stderr),
never as a column: the TSV keeps its three columns.
"""

from itertools import islice
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from registries.models import ComponentSpec, EngineRoute, Scope
from workbench.contract import declared_entitlements
from workbench.models import WorkbenchDraft
from workbench.selectors.policy_matrix import in_byte_order, scope_bindings

DONE, PARTIAL, MISSING = "DONE", "PARTIAL", "MISSING"
ENTITLEMENT_STORE_MISSING = "missing dependency: entitlement store"
CHUNK_ROWS = 1000

_COLUMNS = (
    "pattern",
    "connector_id",
    "connector__connector_id",
    "connector__latest_spec_id",
    "connector__latest_spec__version",
    "latest_scope_total",
    "latest_bound_total",
    "latest_from_draft",
    "latest_declares_entitlements",
    "drafted",
)


class RouteCoverage(NamedTuple):
    """One row of the report; the first three fields are the TSV's columns."""

    engine_route: str
    status: str
    percent: int
    decided: int = 0
    scopes: int = 0
    connector_id: str = ""
    wrapper: str = ""  # "1.2.0" (published version) or the draft id
    missing_dependencies: tuple = ()


def _entitlements(value):
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)] if value else []


def routes_for_coverage(routes=None):
    """Engine routes with what coverage needs, annotated in SQL (a fixed number of subqueries per row)."""
    routes = EngineRoute.objects.all() if routes is None else routes
    latest_scopes = Scope.objects.filter(spec_id=OuterRef("connector__latest_spec_id")).order_by()
    total = latest_scopes.values("spec_id").annotate(n=Count("pk")).values("n")
    bound = (
        latest_scopes.filter(Exists(scope_bindings(OuterRef(OuterRef("connector__connector_id")))))
        .values("spec_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    metadata_has = "connector__latest_spec__metadata__has_key"
    open_drafts = WorkbenchDraft.objects.filter(
        connector_id=OuterRef("connector__connector_id"), status=WorkbenchDraft.Status.DRAFT
    )
    routes = routes.annotate(
        latest_scope_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
        latest_bound_total=Coalesce(Subquery(bound, output_field=IntegerField()), 0),
        # Flags, not the JSON itself: decoding metadata for every route would cost more than the rules.
        latest_from_draft=ExpressionWrapper(Q(**{metadata_has: "draft_id"}), output_field=BooleanField()),
        latest_declares_entitlements=ExpressionWrapper(
            Q(**{metadata_has: "entitlements"}), output_field=BooleanField()
        ),
        # Only a connector without a published version needs its drafts looked at.
        drafted=Case(
            When(connector__isnull=False, connector__latest_spec__isnull=True, then=Exists(open_drafts)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    return in_byte_order(routes, "pattern")


def _draft_scope_names(spec):
    scopes = spec.get("scopes") if isinstance(spec, dict) else None
    names = []
    for scope in scopes if isinstance(scopes, list) else []:
        name = scope.get("name") if isinstance(scope, dict) else None
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def open_drafts_by_connector(connector_ids):
    """{connector_id: (draft id, spec_snapshot, policy_snapshot)} of the latest open draft of each."""
    found = {}
    drafts = (
        WorkbenchDraft.objects.filter(connector_id__in=connector_ids, status=WorkbenchDraft.Status.DRAFT)
        .order_by("connector_id", "-revised_at", "-created_at", "id")
        .values_list("connector_id", "id", "spec_snapshot", "policy_snapshot")
    )
    for connector_id, draft_id, spec, policy in drafts:
        found.setdefault(connector_id, (draft_id, spec, policy))
    return found


def _published(pattern, connector_id, version, total, bound, from_draft, entitlements):
    decided = total if from_draft else bound
    status = DONE if total and decided == total else PARTIAL
    return RouteCoverage(
        pattern, status, _percent(decided, total), decided, total, connector_id, version,
        _dependencies(entitlements),
    )


def declared_entitlements_of_specs(spec_pks):
    """{spec pk: [entitlements]} read from the specs' metadata (only for specs that declare some)."""
    if not spec_pks:
        return {}
    specs = ComponentSpec.objects.filter(pk__in=spec_pks).values_list("pk", "metadata")
    return {pk: _entitlements((metadata or {}).get("entitlements")) for pk, metadata in specs}


def _drafted(pattern, connector_id, draft):
    draft_id, spec, policy = draft
    names = _draft_scope_names(spec)
    firearms = policy.get("firearms") if isinstance(policy, dict) else None
    firearms = firearms if isinstance(firearms, dict) else {}
    decided = sum(1 for name in names if name in firearms)
    entitlements = declared_entitlements(spec) if isinstance(spec, dict) else []
    return RouteCoverage(
        pattern, PARTIAL, _percent(decided, len(names)), decided, len(names), connector_id, draft_id,
        _dependencies(entitlements),
    )


def _percent(part, whole):
    return (100 * part // whole) if whole else 0


def _dependencies(entitlements):
    entitlements = _entitlements(entitlements)
    if not entitlements:
        return ()
    return (f"{ENTITLEMENT_STORE_MISSING} (declares {', '.join(entitlements)})",)


def route_coverage(routes=None, *, limit=None):
    """RouteCoverage per engine route (the first `limit` ones), ordered by pattern; read in chunks, so
    memory stays flat: the routes' query, plus per chunk one query for the open drafts of its
    unpublished connectors and one for the entitlements its specs declare, when there are any."""
    rows = routes_for_coverage(routes).values_list(*_COLUMNS)
    if limit is not None:
        rows = rows[:limit]
    rows = rows.iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        drafted = [row[2] for row in chunk if row[9]]
        drafts = open_drafts_by_connector(drafted) if drafted else {}
        entitlements = declared_entitlements_of_specs([row[3] for row in chunk if row[8]])
        for pattern, connector_pk, connector_id, spec_pk, version, total, bound, from_draft, *_ in chunk:
            if connector_pk is None:
                yield RouteCoverage(pattern, MISSING, 0)
            elif spec_pk is not None:
                yield _published(
                    pattern, connector_id, version, total, bound, from_draft, entitlements.get(spec_pk)
                )
            elif connector_id in drafts:
                yield _drafted(pattern, connector_id, drafts[connector_id])
            else:
                yield RouteCoverage(pattern, MISSING, 0, connector_id=connector_id)
