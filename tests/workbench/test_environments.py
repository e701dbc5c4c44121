"""load_environment / dump_environment: one transaction, repeatable, plan, clear errors, round trip."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from policies.models import Firearm, FirearmBinding, KpiCorridor
from registries.models import Connector
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, KpiCorridorFactory
from tests.registries.factories import EngineRouteFactory, ScopeFactory
from tests.workbench.environments_kit import dumpdata, run
from workbench.services import environments
from workbench.services.environments import loading

pytestmark = pytest.mark.django_db

FIREARMS = [
    {
        "model": "policies.firearm",
        "fields": {"firearm_id": "firearm.external_write", "name": "External write", "severity": "high"},
    },
    {
        "model": "policies.firearm",
        "fields": {"firearm_id": "firearm.money_movement", "name": "Money movement", "severity": "critical"},
    },
]
KPIS = [
    {
        "model": "policies.kpidefinition",
        "fields": {
            "kpi_id": "kpi.change_failure_rate",
            "name": "Change failure rate",
            "unit": "%",
            "direction": "lower_is_better",
        },
    },
    {
        "model": "policies.kpicorridor",
        "fields": {"kpi": ["kpi.change_failure_rate"], "lower": "0", "upper": "15", "critical_upper": "30"},
    },
]
DEV = [
    {"model": "workbench.tenant", "fields": {"slug": "acme", "name": "Acme"}},
    {
        "model": "policies.firearmbinding",
        "fields": {"action_name": "leads.create", "firearm": ["firearm.external_write"]},
    },
    {
        "model": "policies.strategylock",
        "fields": {
            "name": "freeze",
            "description": "Release freeze",
            "firearms": [["firearm.money_movement"]],
            "actions": [],
        },
    },
]


@pytest.fixture
def env_dirs(tmp_path, monkeypatch, settings):
    seeds, fixtures = tmp_path / "seeds", tmp_path / "fixtures"
    seeds.mkdir()
    (fixtures / "dev").mkdir(parents=True)
    (fixtures / "prod").mkdir(parents=True)
    (seeds / "10_firearms.json").write_text(json.dumps(FIREARMS))
    (seeds / "20_kpis.json").write_text(json.dumps(KPIS))
    (fixtures / "dev" / "dev.json").write_text(json.dumps(DEV))
    (fixtures / "prod" / "prod.json").write_text("[]")
    # A live binding names an action that exists: the tool registry holds leads.create, bound in DEV.
    registry = json.loads((loading.SEEDS_DIR / loading.TOOL_REGISTRY).read_text())
    registry["tools"] = [tool for tool in registry["tools"] if tool["name"] == "leads.create"]
    (seeds / loading.TOOL_REGISTRY).write_text(json.dumps(registry))
    monkeypatch.setattr(loading, "SEEDS_DIR", seeds)
    monkeypatch.setattr(loading, "FIXTURES_DIR", fixtures)
    return tmp_path


def test_load_twice_second_run_changes_nothing(env_dirs):
    first = run("load_environment", "dev")
    assert "policies.firearm: 2 created, 0 updated, 0 unchanged" in first
    before = dumpdata()
    second = run("load_environment", "dev")
    assert "no changes" in second
    assert "policies.firearm: 0 created, 0 updated, 2 unchanged" in second
    assert dumpdata() == before
    lock = __import__("policies.models", fromlist=["StrategyLock"]).StrategyLock.objects.get(name="freeze")
    assert [f.firearm_id for f in lock.firearms.all()] == ["firearm.money_movement"]


def test_load_records_history_with_reason(env_dirs):
    run("load_environment", "dev")
    record = Firearm.history.get(firearm_id="firearm.external_write")
    assert record.history_change_reason == "load_environment dev"


def test_plan_lists_exactly_the_differences_and_writes_nothing(env_dirs):
    run("load_environment", "dev")
    Firearm.objects.filter(firearm_id="firearm.external_write").update(name="Renamed by hand")
    FirearmBinding.objects.all().delete()
    before = dumpdata()
    plan = run("load_environment", "dev", "--plan")
    changes = [line for line in plan.splitlines() if line.startswith(("created", "updated"))]
    assert changes == [
        "updated  policies.firearm firearm.external_write (name)",
        "created  policies.firearmbinding leads.create",
    ]
    assert "plan only" in plan
    assert dumpdata() == before


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            {
                "model": "policies.firearmbinding",
                "fields": {"action_name": "leads.create", "firearm": ["firearm.nope"]},
            },
            "object 3 (policies.firearmbinding leads.create): refers to something that does not exist",
        ),
        (
            {"model": "policies.firearm", "fields": {"firearm_id": "Bad Id", "name": "x"}},
            "object 3 (policies.firearm Bad Id): field firearm_id: Enter a valid firearm id",
        ),
        (
            {"model": "workbench.tenant", "fields": {"slug": "acme", "name": "Acme again"}},
            "object 3 (workbench.tenant acme): duplicate of an object already loaded from dev.json object 0",
        ),
        ({"model": "policies.nothing", "fields": {}}, "object 3 (policies.nothing): unknown model"),
        (
            {"model": "policies.firearm", "fields": {"firearm_id": "firearm.x", "colour": "red"}},
            "field colour: policies.firearm has no field 'colour'",
        ),
    ],
)
def test_broken_fixture_loads_nothing_and_names_file_object_field(env_dirs, entry, expected):
    (env_dirs / "fixtures" / "dev" / "dev.json").write_text(json.dumps([*DEV, entry]))
    with pytest.raises(CommandError) as err:
        run("load_environment", "dev")
    assert "fixtures/dev/dev.json" in str(err.value) or "dev.json" in str(err.value)
    assert expected in str(err.value)
    assert not Firearm.objects.exists()


def test_unknown_environment_is_a_clear_error(env_dirs):
    with pytest.raises(CommandError, match="Unknown environment 'qa'; known: dev, prod"):
        run("load_environment", "qa")


def _published_state():
    corridor = KpiCorridorFactory(kpi__kpi_id="kpi.latency_p95")
    scope = ScopeFactory(connector__connector_id="github", name="admin_write", tools=["delete_file"])
    ScopeFactory(connector=scope.connector, spec=scope.spec, name="read_public")
    FirearmBindingFactory(
        action_name="github:admin_write", firearm=FirearmFactory(firearm_id="firearm.external_write")
    )
    EngineRouteFactory(pattern="/chat/*", connector=scope.connector)
    return corridor


def test_dump_load_dump_round_trip(tmp_path, django_db_blocker):
    _published_state()
    first = io.StringIO()
    environments.environment_dump(stream=first)
    dump_file = tmp_path / "prod-dump.json"
    dump_file.write_text(first.getvalue())
    # Empty the registries (bypassing the write-once guard, as a fresh database would be) and load the dump.
    from django.db import connection

    with connection.cursor() as cursor:
        for table in [
            "registries_engineroute",
            "policies_firearmbinding",
            "policies_kpicorridor",
            "policies_kpidefinition",
            "policies_firearm",
            "registries_scope",
            "registries_connector",
            "registries_componentspec",
        ]:
            cursor.execute(f"DELETE FROM {table}")
    assert not Connector.objects.exists()
    report = environments.environment_load(name=str(dump_file))
    assert report.changed
    second = io.StringIO()
    environments.environment_dump(stream=second)
    assert second.getvalue() == first.getvalue()
    assert KpiCorridor.objects.get().kpi.kpi_id == "kpi.latency_p95"


def test_plan_against_a_dump_shows_the_drift(tmp_path):
    _published_state()
    dump_file = tmp_path / "staging.json"
    with dump_file.open("w") as stream:
        environments.environment_dump(stream=stream)
    Firearm.objects.filter(firearm_id="firearm.external_write").update(severity="low")
    plan = run("load_environment", str(dump_file), "--plan")
    changes = [line for line in plan.splitlines() if line.startswith(("created", "updated"))]
    assert changes == ["updated  policies.firearm firearm.external_write (severity)"]
    assert Firearm.objects.get(firearm_id="firearm.external_write").severity == "low"


def test_dump_environment_command_writes_loadable_json(tmp_path):
    _published_state()
    out = run("dump_environment")
    data = json.loads(out)
    assert {"model": "registries.connector"}.items() <= data[
        [e["model"] for e in data].index("registries.connector")
    ].items()
    assert all("pk" not in entry for entry in data)
    call_command("loaddata", str((tmp_path / "d.json").write_text(out) and tmp_path / "d.json"), verbosity=0)


# The real seeds/ and fixtures/ of the repository ------------------------------------------------
