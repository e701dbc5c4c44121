"""Publish of a connector with 120 tools and 40 scopes, and a re-publish that drops 160 bound scopes, vs.
bulk writes of the same rows with their history rows.

Subjects: `draft_publish` of a validated draft (permission and review checks, row locks, the validation
re-run against the registries, the spec, connector, scopes, firearm and KPI bindings with their history
rows, the draft marked published), through the service the admin and API call.
- publish: a new connector, 40 scopes, 40 firearm and 40 KPI bindings.
- re-publish: version 1.1.0 of a connector whose 1.0.0 has 162 scopes, 160 of them bound to a firearm and
  a KPI; 1.1.0 keeps 2, so 320 bindings are removed, each leaving a history row.
Baselines: the same rows written with plain bulk writes and no checks: the spec, the connector and the
scopes with `bulk_create`, and the bindings with simple-history's `bulk_create_with_history` (publish)
or with one `bulk_create` of their "-" history rows and one DELETE (re-publish). Each timed run is rolled
back, so every run publishes anew; subject and baseline take turns (interleaved best of REPEAT).
"""

from django.db import transaction

from tests.bench.__main__ import rolled_back
from tests.bench.bench_import_tsv import interleaved_best

TOOLS = 120
SCOPES = 40
DROPPED = 160
REPEAT = 7


def _validated(connector_id, owner, spec, policy, **draft_kwargs):
    from tests.workbench.factories import WorkbenchDraftFactory
    from workbench.services.drafts import draft_validate

    draft = WorkbenchDraftFactory(
        connector_id=connector_id, owner=owner, spec_snapshot=spec, policy_snapshot=policy, **draft_kwargs
    )
    draft_validate(draft_id=draft.pk, user=owner)
    draft.refresh_from_db()
    if not draft.publishable:
        raise SystemExit(f"The bench draft does not validate: {draft.validation_findings[:3]}")
    return draft


def _world():
    from policies.models import Firearm, KpiDefinition
    from tests.workbench.factories import UserFactory
    from workbench.services.drafts import PUBLISH_PERMISSION

    Firearm.objects.create(firearm_id="firearm.bench_write", name="Bench write")
    KpiDefinition.objects.create(kpi_id="kpi.bench_rate", name="Bench rate")
    return UserFactory(username="bench-publisher", perms=[PUBLISH_PERMISSION])


def _bound(names, unbound=()):
    names = list(names)
    return {
        "firearms": {**dict.fromkeys(unbound), **dict.fromkeys(names, "firearm.bench_write")},
        "kpis": {name: ["kpi.bench_rate"] for name in names},
    }


def _draft(owner):
    from tests.workbench.factories import draft_spec, draft_tool

    tools = [draft_tool(f"tool_{i}", read_only=i % 3 == 0) for i in range(TOOLS)]
    scopes = [
        {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, TOOLS, SCOPES)]} for i in range(SCOPES)
    ]
    spec = draft_spec("bench-server", tools=tools, scopes=scopes)
    return _validated("bench-server", owner, spec, _bound(s["name"] for s in scopes))


def _republish_draft(owner):
    """1.0.0 of bench-dropping published with 2 kept and DROPPED bound scopes; 1.1.0 validated, keeping 2."""
    from tests.workbench.factories import TenantFactory, draft_spec, draft_tool
    from workbench.services.drafts import draft_publish

    tenant = TenantFactory(slug="bench-dropping")
    kept = ["kept_0", "kept_1"]
    names = kept + [f"gone_{i}" for i in range(DROPPED)]

    def spec(version, scope_names):
        scopes = [{"name": name, "tools": ["tool_0"]} for name in scope_names]
        return draft_spec("bench-dropping", version, tools=[draft_tool("tool_0")], scopes=scopes)

    first = _validated("bench-dropping", owner, spec("1.0.0", names), _bound(names[2:], kept), tenant=tenant)
    draft_publish(draft_id=first.pk, user=owner)
    return _validated("bench-dropping", owner, spec("1.1.0", kept), _bound((), kept), tenant=tenant)


def _write_version(draft, owner, connector=None):
    """The baselines' spec, connector and scopes: plain inserts (and an update of a live connector)."""
    from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope

    spec = draft.spec_snapshot
    component = ComponentSpec.objects.create(
        spec_id=draft.connector_id,
        version=spec["version"],
        kind="component",
        name=spec["name"],
        schema=spec,
        metadata={"spec_class": MCP_CONNECTOR_CLASS, "packaging": spec["packaging"]},
        published_by=owner,
    )
    if connector is None:
        connector = Connector.objects.create(
            connector_id=draft.connector_id,
            name=spec["name"],
            latest_spec=component,
            owner_id=draft.tenant_id,
        )
    else:
        Connector.objects.filter(pk=connector.pk).update(latest_spec=component)
    Scope.objects.bulk_create(
        [Scope(spec=component, connector=connector, name=s["name"], tools=s["tools"]) for s in spec["scopes"]]
    )
    return [f"{draft.connector_id}:{s['name']}" for s in spec["scopes"]]


def _baseline(draft, owner):
    from simple_history.utils import bulk_create_with_history

    from policies.models import Firearm, FirearmBinding, KpiDefinition, KpiToolBinding

    firearm = Firearm.objects.get(firearm_id="firearm.bench_write")
    kpi = KpiDefinition.objects.get(kpi_id="kpi.bench_rate")

    def write():
        actions = _write_version(draft, owner)
        reason = f"published {draft.connector_id}"
        bulk_create_with_history(
            [FirearmBinding(action_name=a, firearm=firearm) for a in actions],
            FirearmBinding,
            default_user=owner,
            default_change_reason=reason,
        )
        bulk_create_with_history(
            [KpiToolBinding(action_name=a, kpi=kpi) for a in actions],
            KpiToolBinding,
            default_user=owner,
            default_change_reason=reason,
        )

    return write


def _drop_baseline(draft, owner):
    from django.utils import timezone

    from policies.models import FirearmBinding, KpiToolBinding
    from registries.models import Connector

    connector = Connector.objects.get(connector_id=draft.connector_id)

    def write():
        _write_version(draft, owner, connector)
        for model in (FirearmBinding, KpiToolBinding):
            rows = list(model.objects.filter(action_name__startswith=f"{draft.connector_id}:gone_"))
            history = model.history.model
            history.objects.bulk_create(
                [
                    history(
                        history_date=timezone.now(),
                        history_type="-",
                        history_user=owner,
                        history_change_reason="scope dropped",
                        **{field.attname: getattr(row, field.attname) for field in history.tracked_fields},
                    )
                    for row in rows
                ]
            )
            model.objects.filter(pk__in=[row.pk for row in rows])._raw_delete(model.objects.db)

    return write


def _subject(draft, owner):
    from workbench.services.drafts import draft_publish

    def publish():
        if draft_publish(draft_id=draft.pk, user=owner).status != "published":
            raise SystemExit("publish did not publish")

    return publish


def run(*, rows):
    """`rows` is the runner's data-set size; this bench's sizes are fixed (a large real connector)."""
    with transaction.atomic():
        owner = _world()
        draft, republish = _draft(owner), _republish_draft(owner)
        timings = interleaved_best(
            [
                rolled_back(_baseline(draft, owner)),
                rolled_back(_subject(draft, owner)),
                rolled_back(_drop_baseline(republish, owner)),
                rolled_back(_subject(republish, owner)),
            ],
            REPEAT,
        )
        transaction.set_rollback(True)
    return [
        (f"publish {TOOLS} tools, {SCOPES} scopes", timings[0], timings[1]),
        (f"re-publish dropping {DROPPED} scopes ({2 * DROPPED} bindings)", timings[2], timings[3]),
    ]
