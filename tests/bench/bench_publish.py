"""Publish of a connector with 120 tools and 40 scopes vs. bulk-inserting the same rows.

Subject: `draft_publish` of a validated draft (permission and review checks, row locks, the validation
re-run against the registries, the spec, connector, 40 scopes, 40 firearm bindings and 40 KPI bindings
with their history rows, the draft marked published), through the service the admin and API call.
Baseline: the same ComponentSpec, Connector, Scope, FirearmBinding and KpiToolBinding rows written with
plain bulk_create, no checks and no history. Each timed run is rolled back, so every run publishes anew.
"""

from django.db import transaction

from tests.bench.__main__ import best_of, rolled_back

TOOLS = 120
SCOPES = 40
REPEAT = 7


def _draft():
    from policies.models import Firearm, KpiDefinition
    from tests.workbench.factories import UserFactory, WorkbenchDraftFactory, draft_spec, draft_tool
    from workbench.services.drafts import PUBLISH_PERMISSION, draft_validate

    Firearm.objects.create(firearm_id="firearm.bench_write", name="Bench write")
    KpiDefinition.objects.create(kpi_id="kpi.bench_rate", name="Bench rate")
    tools = [draft_tool(f"tool_{i}", read_only=i % 3 == 0) for i in range(TOOLS)]
    scopes = [
        {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, TOOLS, SCOPES)]} for i in range(SCOPES)
    ]
    owner = UserFactory(username="bench-publisher", perms=[PUBLISH_PERMISSION])
    draft = WorkbenchDraftFactory(
        connector_id="bench-server",
        owner=owner,
        spec_snapshot=draft_spec("bench-server", tools=tools, scopes=scopes),
        policy_snapshot={
            "firearms": {f"scope_{i}": "firearm.bench_write" for i in range(SCOPES)},
            "kpis": {f"scope_{i}": ["kpi.bench_rate"] for i in range(SCOPES)},
        },
    )
    draft_validate(draft_id=draft.pk, user=owner)
    draft.refresh_from_db()
    if not draft.publishable:
        raise SystemExit(f"The bench draft does not validate: {draft.validation_findings[:3]}")
    return draft, owner


def _baseline(draft, owner):
    from policies.models import Firearm, FirearmBinding, KpiDefinition, KpiToolBinding
    from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope

    spec = draft.spec_snapshot
    firearm = Firearm.objects.get(firearm_id="firearm.bench_write")
    kpi = KpiDefinition.objects.get(kpi_id="kpi.bench_rate")

    def write():
        component = ComponentSpec.objects.create(
            spec_id=draft.connector_id,
            version=spec["version"],
            kind="component",
            name=spec["name"],
            schema=spec,
            metadata={"spec_class": MCP_CONNECTOR_CLASS, "packaging": spec["packaging"]},
            published_by=owner,
        )
        connector = Connector.objects.create(
            connector_id=draft.connector_id,
            name=spec["name"],
            latest_spec=component,
            owner_id=draft.tenant_id,
        )
        Scope.objects.bulk_create(
            [
                Scope(spec=component, connector=connector, name=s["name"], tools=s["tools"])
                for s in spec["scopes"]
            ]
        )
        actions = [f"{draft.connector_id}:{s['name']}" for s in spec["scopes"]]
        FirearmBinding.objects.bulk_create([FirearmBinding(action_name=a, firearm=firearm) for a in actions])
        KpiToolBinding.objects.bulk_create([KpiToolBinding(action_name=a, kpi=kpi) for a in actions])

    return write


def _subject(draft, owner):
    from workbench.services.drafts import draft_publish

    def publish():
        if draft_publish(draft_id=draft.pk, user=owner).status != "published":
            raise SystemExit("publish did not publish")

    return publish


def run(*, rows):
    """`rows` is the runner's data-set size; this bench's size is fixed (a large real connector)."""
    with transaction.atomic():
        draft, owner = _draft()
        baseline, subject = rolled_back(_baseline(draft, owner)), rolled_back(_subject(draft, owner))
        result = (
            f"publish {TOOLS} tools, {SCOPES} scopes",
            best_of(baseline, REPEAT),
            best_of(subject, REPEAT),
        )
        transaction.set_rollback(True)
    return [result]
