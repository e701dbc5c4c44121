"""Policy-matrix import of `rows` rows (10,000 by default): 1,000 live connectors of 10 scopes each,
every connector with two changed firearm decisions, so every connector gets a draft.

The world, inserted in bulk: tenant bench-acme and its editor (the importer, with the sheet
permissions), 10 firearms, and `rows / 10` connectors each published as version 1.0.0 (the component
spec with its 20-tool, 10-scope schema, the connector owned by the tenant, its 10 scopes, a firearm
binding on every other scope and a KPI binding on the first scope). One connector in ten already has
the importer's open draft (at `policy`), so the import updates those and creates the others.

Subjects: `run_import` of the edited matrix (the entry point the admin, the API and `import_tsv`
share) as a preview (dry run: every row read and compared, every draft written, then rolled back) and
as a commit (the same, kept; each timed run is rolled back afterwards so every run imports anew).
The import writes one draft per connector: a new one as draft_create then a save moving it to
`policy` would (two history rows, the importer an author), an open one as a save would (one history
row).

Baseline, the raw insert: the same sheet read (`tsv.parse`, rows grouped by connector), then one new
draft per connector carrying the decided snapshots (the live spec at the next patch version, the live
policy with the sheet's firearm decisions) written in bulk with one history row each: the documents
stored by digest (`store_snapshots`, one INSERT), the drafts (one INSERT) and their history rows
referring to the digests (one INSERT, simple-history's rows as `bulk_create_with_history` makes them);
the live specs and bindings are read beforehand, outside the timing (a raw
insert has no references to resolve), and nothing is compared or checked.
"""

from django.db import transaction

from tests.bench.__main__ import rolled_back
from tests.bench.bench_import_tsv import interleaved_best

REPEAT = 3
SCOPES = 10
TOOLS = 20
FIREARMS = 10
OPEN_EVERY = 10  # one connector in OPEN_EVERY has the importer's open draft
CHANGED = (0, 5)  # the scopes whose firearm the sheet changes, in every connector
HEADER = ["connector_id", "scope", "firearm_id", "strategy_lock"]
REASON = "imported from TSV bench.tsv"


def connector_name(index):
    return f"bench-{index:05d}"


def live_firearm(connector, scope):
    """The firearm bound live on a scope: every other scope has one, the rest are NONE."""
    return f"firearm.bench_{(connector + scope) % FIREARMS:02d}" if scope % 2 == 0 else None


def edited_firearm(connector, scope):
    """The sheet's decision: CHANGED scopes flip (a firearm to NONE, NONE to a firearm)."""
    live = live_firearm(connector, scope)
    if scope not in CHANGED:
        return live
    return None if live else f"firearm.bench_{(connector + 1) % FIREARMS:02d}"


def spec_of(connector_id, version):
    from tests.workbench.factories import draft_spec, draft_tool

    tools = [draft_tool(f"tool_{i}", read_only=i % 3 == 0) for i in range(TOOLS)]
    scopes = [
        {"name": f"scope_{s}", "description": f"Scope {s}",
         "tools": [f"tool_{j}" for j in range(s, TOOLS, SCOPES)]}
        for s in range(SCOPES)
    ]
    return draft_spec(connector_id, version, tools=tools, scopes=scopes)


def _world(connectors):
    """The tenant, the importer, firearms, KPIs and `connectors` published connectors, in bulk."""
    from policies.models import Firearm, FirearmBinding, KpiDefinition, KpiToolBinding
    from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope
    from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory
    from tests.workbench.policy_matrix.kit import SHEETS_PERMS
    from workbench.models import Membership, WorkbenchDraft

    tenant = TenantFactory(slug="bench-acme")
    user = UserFactory(username="bench-matrix-importer", is_staff=True, perms=SHEETS_PERMS)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.EDITOR)
    Firearm.objects.bulk_create([
        Firearm(firearm_id=f"firearm.bench_{i:02d}", name=f"Bench {i}", severity="high")
        for i in range(FIREARMS)
    ])
    kpi = KpiDefinition.objects.create(kpi_id="kpi.bench_rate", name="Bench rate")
    firearms = dict(Firearm.objects.values_list("firearm_id", "pk"))
    names = [connector_name(c) for c in range(connectors)]
    specs = ComponentSpec.objects.bulk_create([
        ComponentSpec(
            spec_id=name, version="1.0.0", version_major=1, kind=ComponentSpec.Kind.COMPONENT,
            name=name.title(), schema=spec_of(name, "1.0.0"), published_by=user,
            metadata={"spec_class": MCP_CONNECTOR_CLASS, "packaging": spec_of(name, "1.0.0")["packaging"]},
        )
        for name in names
    ])
    Connector.objects.bulk_create([
        Connector(connector_id=name, name=name.title(), latest_spec=spec, owner=tenant)
        for name, spec in zip(names, specs, strict=True)
    ])
    by_name = {c.connector_id: c for c in Connector.objects.filter(connector_id__in=names)}
    Scope.objects.bulk_create([
        Scope(spec=spec, connector=by_name[name], name=f"scope_{s}", description=f"Scope {s}",
              tools=[f"tool_{j}" for j in range(s, TOOLS, SCOPES)])
        for name, spec in zip(names, specs, strict=True) for s in range(SCOPES)
    ])
    FirearmBinding.objects.bulk_create([
        FirearmBinding(action_name=f"{name}:scope_{s}", firearm_id=firearms[live_firearm(c, s)])
        for c, name in enumerate(names) for s in range(SCOPES) if live_firearm(c, s)
    ])
    KpiToolBinding.objects.bulk_create(
        [KpiToolBinding(action_name=f"{name}:scope_0", kpi=kpi) for name in names]
    )
    WorkbenchDraft.objects.bulk_create([
        WorkbenchDraft(
            tenant=tenant, owner=user, connector_id=name, stage=WorkbenchDraft.Stage.POLICY,
            spec_snapshot=spec_of(name, "1.0.1"),
            policy_snapshot={"firearms": {f"scope_{s}": live_firearm(c, s) for s in range(SCOPES)},
                             "kpis": {"scope_0": ["kpi.bench_rate"]}},
            revision=1, revised_by=user,
        )
        for c, name in enumerate(names) if c % OPEN_EVERY == 0
    ])
    return tenant, user


def matrix_tsv(connectors):
    from workbench.kit.exchange import tsv

    lines = ["\t".join(HEADER)]
    for c in range(connectors):
        for s in range(SCOPES):
            firearm = edited_firearm(c, s)
            lines.append("\t".join([connector_name(c), f"scope_{s}", firearm or tsv.NONE, tsv.FALSE]))
    return "\r\n".join(lines) + "\r\n"  # as Google Sheets gives it back


def _subject(user, tenant, text, connectors, *, dry_run):
    from workbench.exchange.policy_matrix import PolicyMatrixResource
    from workbench.kit.exchange.importing import run_import
    from workbench.models import WorkbenchDraft

    def imported():
        report = run_import(PolicyMatrixResource(user=user, tenant=tenant), text, dry_run=dry_run,
                            file_name="bench.tsv")
        changed = connectors * len(CHANGED)
        if not report.ok or report.totals()["update"] != changed:
            raise SystemExit(f"the import failed: {report.totals()} {list(report.error_lines())[:3]}")
        revised = WorkbenchDraft.objects.filter(revision=2).count()
        if revised != (0 if dry_run else connectors):
            raise SystemExit(f"the import wrote {revised} drafts (dry run: {dry_run})")

    return imported


def _baseline(user, tenant, text):
    """The sheet read, one new draft per connector with the decided snapshots, bulk-inserted with history."""
    from policies.models import FirearmBinding, KpiToolBinding
    from registries.models import Connector
    from workbench.kit import semver
    from workbench.kit.exchange import tsv
    from workbench.models import WorkbenchDraft
    from workbench.models.snapshots import store_snapshots
    from workbench.services.drafts.decisions import history_rows

    specs, policies = {}, {}
    for connector_id, schema, version in Connector.objects.values_list(
        "connector_id", "latest_spec__schema", "latest_spec__version"
    ):
        specs[connector_id] = {**schema, "version": semver.next_patch(version)}
        policies[connector_id] = {"firearms": {s["name"]: None for s in schema["scopes"]}, "kpis": {}}
    for action, firearm_id in FirearmBinding.objects.values_list("action_name", "firearm__firearm_id"):
        connector_id, scope = action.split(":", 1)
        policies[connector_id]["firearms"][scope] = firearm_id
    for action, kpi_id in KpiToolBinding.objects.values_list("action_name", "kpi__kpi_id"):
        connector_id, scope = action.split(":", 1)
        policies[connector_id]["kpis"].setdefault(scope, []).append(kpi_id)

    def inserted():
        decided = {}
        for row in tsv.parse(text).dict:
            firearm = row["firearm_id"].strip()
            firearm = None if firearm == tsv.NONE else firearm
            decided.setdefault(row["connector_id"], {})[row["scope"]] = firearm
        drafts = [
            WorkbenchDraft(
                tenant=tenant, owner=user, connector_id=connector_id, stage=WorkbenchDraft.Stage.POLICY,
                spec_snapshot=specs[connector_id],
                policy_snapshot={**policies[connector_id],
                                 "firearms": {**policies[connector_id]["firearms"], **firearms}},
                revision=2, revised_by=user,
            )
            for connector_id, firearms in decided.items()
        ]
        digests = iter(store_snapshots(drafts))
        WorkbenchDraft.objects.bulk_create(drafts, batch_size=500)
        history_rows(drafts, digests, history_type="+", user=user, reason=REASON)

    return inserted


def run(*, rows):
    connectors = max(1, rows // SCOPES)
    with transaction.atomic():
        tenant, user = _world(connectors)
        text = matrix_tsv(connectors)
        what = f"{connectors * SCOPES} rows, {connectors} connectors"
        baseline, preview, commit = interleaved_best(
            [
                rolled_back(_baseline(user, tenant, text)),
                rolled_back(_subject(user, tenant, text, connectors, dry_run=True)),
                rolled_back(_subject(user, tenant, text, connectors, dry_run=False)),
            ],
            REPEAT,
        )
        transaction.set_rollback(True)
    return [
        (f"import policy-matrix.tsv preview ({what})", baseline, preview),
        (f"import policy-matrix.tsv commit ({what})", baseline, commit),
    ]
