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
- DONE: the wrapper is a published version with at least one scope, all of them decided (100%), and
  it depends on nothing that does not exist;
- PARTIAL: the wrapper is a published version with an undecided scope or no scope at all, or one that
  declares a billing entitlement no entitlement store can serve, or the wrapper is only a draft
  (whatever its coverage: nothing is live yet);
- MISSING: no connector, or a connector with neither a published version nor an open draft.

Billing entitlements (seed 000, gap 2: "No runtime entitlement store found. Strategy: Define strictly
as "Missing Dependency""; PRODUCT.md section 8). A wrapper declares them in `portability.entitlements`
or `metadata.entitlements` (a published version keeps them in its metadata). No entitlement store
exists in the product, and neither the seeds nor PRODUCT.md configure one (the routing registry's
resource kinds are the six live registries; none of them checks entitlements), so no declared
entitlement is served: each one makes the route PARTIAL, whatever its policy coverage, with the reason
"missing dependency: entitlement store (declares <entitlement>)". `unserved_entitlements` is the one
place that would change when a store exists.

Every row carries its `reasons`: why it is not DONE (empty for DONE). The TSV keeps its three columns;
the reasons are beside it: the dashboard, the admin coverage page, `GET /api/v1/coverage/` and, for
missing dependencies, `export_tsv coverage` on stderr (the operator's command, outside any tenant, like
the environment loads: it names every one).

Open drafts of every tenant count for the status and percentage (a route is being wrapped, whoever
does it). A draft is shown only to those who may read it (`seen_by`; PRODUCT.md section 4: members of
other tenants never see it): to others the row keeps what coverage.tsv gives every reader (status and
percentage, the columns PRODUCT.md section 6 fixes) and says "draft" with generic reasons: the draft's
id, its scope counts and the entitlements it declares stay with its tenant.
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
from workbench.kit.jsonsql import JsonValues, StringCounts
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import drafts_visible_to
from workbench.selectors.policy_matrix import in_byte_order, scope_bindings

DONE, PARTIAL, MISSING = "DONE", "PARTIAL", "MISSING"
STATUSES = (DONE, PARTIAL, MISSING)
ENTITLEMENT_STORE_MISSING = "missing dependency: entitlement store"
CHUNK_ROWS = 1000
#: what reading coverage needs (the TSV, the admin page, the API list): it is computed from the routes,
#: the wrappers' scopes and their firearm bindings
COVERAGE_PERMISSIONS = (
    "registries.view_engineroute",
    "registries.view_scope",
    "policies.view_firearmbinding",
)

#: reason codes (the API's `reasons[].code`)
NO_CONNECTOR = "no_connector"
NO_WRAPPER = "no_wrapper"
DRAFT_ONLY = "draft_only"
NO_SCOPES = "no_scopes"
UNDECIDED_SCOPES = "undecided_scopes"
MISSING_DEPENDENCY = "missing_dependency"
REASON_CODES = (NO_CONNECTOR, NO_WRAPPER, DRAFT_ONLY, NO_SCOPES, UNDECIDED_SCOPES, MISSING_DEPENDENCY)

#: what a draft wrapper is called to someone who may not read the draft
HIDDEN_DRAFT = "draft"
PUBLISHED_WRAPPER, DRAFT_WRAPPER = "published", "draft"

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


class Reason(NamedTuple):
    """Why a route is not DONE: a stable code, the sentence shown to people and, for a missing
    entitlement store, the entitlement it would have to serve."""

    code: str
    message: str
    entitlement: str = ""

    def __str__(self):
        return self.message


class RouteCoverage(NamedTuple):
    """One row of the report; the first three fields are the TSV's columns."""

    engine_route: str
    status: str
    percent: int
    decided: int | None = 0  # None: a draft the reader may not read (its counts are its tenant's)
    scopes: int | None = 0
    connector_id: str = ""
    wrapper: str = ""  # "1.2.0" (published version), the draft id, or "draft" (a draft not shown)
    reasons: tuple = ()
    wrapper_kind: str = ""  # "published", "draft" or "" (no wrapper)

    @property
    def missing_dependencies(self):
        return tuple(reason for reason in self.reasons if reason.code == MISSING_DEPENDENCY)


def unserved_entitlements(entitlements):
    """The declared entitlements no entitlement store can serve: all of them, since the product has no
    entitlement store (seed 000, gap 2; PRODUCT.md section 8). The one place to change if one appears."""
    return list(entitlements)


def entitlement_reasons(entitlements):
    """One "missing dependency: entitlement store" reason per declared entitlement nothing serves."""
    return tuple(
        Reason(MISSING_DEPENDENCY, f"{ENTITLEMENT_STORE_MISSING} (declares {entitlement})", entitlement)
        for entitlement in unserved_entitlements(entitlements)
    )


def spec_entitlements(metadata):
    """Entitlements a published version declares: its metadata's `entitlements` (where publish records
    them) and its `portability.entitlements`, once each, in order."""
    metadata = metadata if isinstance(metadata, dict) else {}
    declared = declared_entitlements({"portability": metadata.get("portability"), "metadata": metadata})
    return list(dict.fromkeys(declared))


def declares_entitlements(prefix=""):
    """Q: the spec at `prefix` (e.g. "connector__latest_spec__") may declare an entitlement. Only a flag:
    decoding the metadata of every row would cost more than the rules; flagged rows are read after."""
    return Q(**{f"{prefix}metadata__has_key": "entitlements"}) | Q(
        **{f"{prefix}metadata__portability__has_key": "entitlements"}
    )


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
    open_drafts = WorkbenchDraft.objects.filter(
        connector_id=OuterRef("connector__connector_id"), status=WorkbenchDraft.Status.DRAFT
    )
    routes = routes.annotate(
        latest_scope_total=Coalesce(Subquery(total, output_field=IntegerField()), 0),
        latest_bound_total=Coalesce(Subquery(bound, output_field=IntegerField()), 0),
        latest_from_draft=ExpressionWrapper(
            Q(connector__latest_spec__metadata__has_key="draft_id"), output_field=BooleanField()
        ),
        latest_declares_entitlements=ExpressionWrapper(
            declares_entitlements("connector__latest_spec__"), output_field=BooleanField()
        ),
        # Only a connector without a published version needs its drafts looked at.
        drafted=Case(
            When(connector__isnull=False, connector__latest_spec__isnull=True, then=Exists(open_drafts)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    return in_byte_order(routes, "pattern")


ENTITLEMENTS_IN_PORTABILITY = ("portability", "entitlements")
ENTITLEMENTS_IN_METADATA = ("metadata", "entitlements")


def _entitlements(portability, metadata):
    """What declared_entitlements finds in a document whose `portability.entitlements` and
    `metadata.entitlements` are these (read in SQL, the rest of the document left in the database)."""
    return declared_entitlements(
        {"portability": {"entitlements": portability}, "metadata": {"entitlements": metadata}}
    )


class DraftCoverage(NamedTuple):
    """What coverage needs of an open draft: how many scopes it names (different names), how many of
    them have a firearm decision, and the entitlements it declares."""

    draft_id: str
    scopes: int
    decided: int
    entitlements: tuple


def open_drafts_by_connector(connector_ids):
    """{connector_id: DraftCoverage} of the latest open draft of each. The counts and the declared
    entitlements are read in SQL; the drafts' documents stay in the database, so memory does not grow
    with the size of a draft (its tools are most of it) nor with its number of scopes."""
    found = {}
    drafts = (
        WorkbenchDraft.objects.filter(connector_id__in=connector_ids, status=WorkbenchDraft.Status.DRAFT)
        .order_by("connector_id", "-revised_at", "-created_at", "id")
        .values_list(
            "connector_id",
            "id",
            # [scopes, decided]: names of spec.scopes, and those of them policy.firearms has a key for
            StringCounts(
                "spec_snapshot", "scopes", item_key="name", keyed_in=("policy_snapshot", "firearms")
            ),
            JsonValues("spec_snapshot", ENTITLEMENTS_IN_PORTABILITY, ENTITLEMENTS_IN_METADATA),
        )
    )
    for connector_id, draft_id, (scopes, decided), declared in drafts:
        if connector_id not in found:
            entitlements = tuple(dict.fromkeys(_entitlements(*declared)))
            found[connector_id] = DraftCoverage(draft_id, scopes, decided, entitlements)
    return found


def declared_entitlements_of_specs(spec_pks):
    """{spec pk: [entitlements]} read from the specs' metadata (only for the specs asked about, and only
    the two places in it where entitlements are declared)."""
    if not spec_pks:
        return {}
    specs = (
        ComponentSpec.objects.filter(pk__in=spec_pks)
        .order_by()
        .values_list("pk", JsonValues("metadata", ENTITLEMENTS_IN_PORTABILITY, ("entitlements",)))
    )
    # As spec_entitlements reads them: portability's first, then the metadata's own, once each.
    return {pk: list(dict.fromkeys(_entitlements(*declared))) for pk, declared in specs}


NO_CONNECTOR_REASONS = (Reason(NO_CONNECTOR, "no connector wraps the route"),)
DRAFT_ONLY_REASON = Reason(DRAFT_ONLY, "only an open draft wraps the route: nothing is published")


def _scope_reasons(decided, total, wrapper):
    if not total:
        return (Reason(NO_SCOPES, f"the {wrapper} has no scopes"),)
    if decided < total:
        return (Reason(UNDECIDED_SCOPES, f"{total - decided} of {total} scopes have no firearm decision"),)
    return ()


def _published(pattern, connector_id, version, total, bound, from_draft, entitlements):
    decided = total if from_draft else bound
    reasons = _scope_reasons(decided, total, "published version") + entitlement_reasons(entitlements or ())
    return RouteCoverage(
        pattern, PARTIAL if reasons else DONE, _percent(decided, total), decided, total, connector_id,
        version, reasons, PUBLISHED_WRAPPER,
    )


def _drafted(pattern, connector_id, draft):
    reasons = (
        (DRAFT_ONLY_REASON,)
        + _scope_reasons(draft.decided, draft.scopes, "draft")
        + entitlement_reasons(draft.entitlements)
    )
    return RouteCoverage(
        pattern, PARTIAL, _percent(draft.decided, draft.scopes), draft.decided, draft.scopes, connector_id,
        draft.draft_id, reasons, DRAFT_WRAPPER,
    )


def _percent(part, whole):
    return (100 * part // whole) if whole else 0


def route_coverage(routes=None, *, offset=0, limit=None):
    """RouteCoverage per engine route (`limit` of them from `offset`), ordered by pattern; read in
    chunks, so memory stays flat: the routes' query, plus per chunk one query for the open drafts of its
    unpublished connectors and one for the entitlements its specs declare, when there are any."""
    rows = routes_for_coverage(routes).values_list(*_COLUMNS)
    if offset or limit is not None:
        rows = rows[offset : None if limit is None else offset + limit]
    rows = rows.iterator(chunk_size=CHUNK_ROWS)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        drafted = [row[2] for row in chunk if row[9]]
        drafts = open_drafts_by_connector(drafted) if drafted else {}
        entitlements = declared_entitlements_of_specs([row[3] for row in chunk if row[8]])
        for pattern, connector_pk, connector_id, spec_pk, version, total, bound, from_draft, *_ in chunk:
            if connector_pk is None:
                yield RouteCoverage(pattern, MISSING, 0, reasons=NO_CONNECTOR_REASONS)
            elif spec_pk is not None:
                yield _published(
                    pattern, connector_id, version, total, bound, from_draft, entitlements.get(spec_pk)
                )
            elif connector_id in drafts:
                yield _drafted(pattern, connector_id, drafts[connector_id])
            else:
                reason = Reason(NO_WRAPPER, f"{connector_id} has no published version and no open draft")
                yield RouteCoverage(pattern, MISSING, 0, connector_id=connector_id, reasons=(reason,))


def hidden_draft(row):
    """A draft-wrapped row for someone who may not read the draft (PRODUCT.md section 4): the status and
    percentage stay, as coverage.tsv gives them to every reader (PRODUCT.md section 6 fixes its columns);
    the draft's id, its scope counts (None) and whether it declares entitlements go (a draft-wrapped
    route is PARTIAL either way, so even "it declares one" would be news). The one reason: a draft only."""
    return row._replace(wrapper=HIDDEN_DRAFT, decided=None, scopes=None, reasons=(DRAFT_ONLY_REASON,))


def seen_by(user, rows):
    """`rows` as `user` may see them: a draft wrapper of a tenant the user may not read is reduced by
    `hidden_draft` (it still counts for the status). One query, when a row has a draft wrapper."""
    rows = list(rows)
    draft_ids = [row.wrapper for row in rows if row.wrapper_kind == DRAFT_WRAPPER]
    if not draft_ids:
        return rows
    visible = set(drafts_visible_to(user).filter(pk__in=draft_ids).values_list("pk", flat=True))
    return [
        hidden_draft(row) if row.wrapper_kind == DRAFT_WRAPPER and row.wrapper not in visible else row
        for row in rows
    ]


class CoverageReport:
    """The coverage rows of `routes` as `user` sees them, as a sequence Django's Paginator (and so DRF's
    pagination and the admin page) can page: `count()` is one query and a slice reads only its rows, in
    the fixed number of queries of `route_coverage` and `seen_by`."""

    def __init__(self, user, routes=None):
        self.user = user
        self.routes = EngineRoute.objects.all() if routes is None else routes

    def count(self):
        return self.routes.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1) or (index.start or 0) < 0 or (index.stop or 0) < 0:
                raise ValueError("Coverage rows are read as forward slices.")
            start = index.start or 0
            limit = None if index.stop is None else max(index.stop - start, 0)
            return seen_by(self.user, route_coverage(self.routes, offset=start, limit=limit))
        rows = self[index : index + 1]
        if not rows:
            raise IndexError(index)
        return rows[0]
