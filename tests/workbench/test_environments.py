"""load_environment / dump_environment: one transaction, repeatable, plan, clear errors, round trip."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from policies.models import Firearm, FirearmBinding, KpiCorridor
from registries.models import Connector
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, KpiCorridorFactory
from tests.registries.factories import EngineRouteFactory, ScopeFactory
from tests.workbench.factories import draft_spec
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


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def load(env, *args):
    """load_environment of a real environment; dev installs its demo logins (known passwords), which
    outside debug (tests run with DEBUG off) takes --allow-demo-users."""
    flags = ("--allow-demo-users",) if env == "dev" else ()
    return run("load_environment", env, *args, *flags)


def dumpdata():
    out = io.StringIO()
    call_command("dumpdata", "policies", "registries", "workbench.tenant", stdout=out)
    return out.getvalue()


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


def test_dev_installs_its_known_password_logins_outside_debug_only_when_asked(settings):
    from django.contrib.auth import get_user_model

    from workbench.kit.refusals import Refusal

    settings.DEBUG = False
    with pytest.raises(CommandError, match=r"demo-editor, demo-viewer.*\[demo_users\]"):
        run("load_environment", "dev")
    with pytest.raises(Refusal) as err:
        environments.environment_load(name="dev")
    assert (err.value.status, err.value.code) == (403, "demo_users")
    assert err.value.extra["users"] == ["demo-editor", "demo-viewer"]
    assert not Firearm.objects.exists()
    assert not get_user_model().objects.filter(username="demo-editor").exists()

    out, warnings = io.StringIO(), io.StringIO()
    call_command("load_environment", "dev", "--allow-demo-users", stdout=out, stderr=warnings)
    assert "dev: loaded" in out.getvalue()
    assert "KNOWN PASSWORDS: demo-editor, demo-viewer" in warnings.getvalue()
    assert get_user_model().objects.filter(username="demo-editor").exists()
    # On a development machine (debug on) no flag is needed; environments without such logins never need it.
    settings.DEBUG = True
    assert environments.environment_load(name="dev").demo_users == ["demo-editor", "demo-viewer"]
    settings.DEBUG = False
    assert "prod: loaded" in run("load_environment", "prod")


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_each_real_environment_loads_then_reports_no_change(env):
    first = load(env)
    assert f"{env}: loaded" in first
    before = dumpdata()
    second = load(env)
    assert f"{env}: no changes" in second
    assert dumpdata() == before


def test_example_connectors_are_published_through_drafts():
    from registries.models import ComponentSpec, ToolDefinition
    from workbench.models import WorkbenchDraft

    load("dev")
    github = Connector.objects.get(connector_id="github")
    assert github.latest_spec.version == "1.2.0"
    draft = WorkbenchDraft.objects.get(pk=github.latest_spec.metadata["draft_id"])
    assert draft.status == WorkbenchDraft.Status.PUBLISHED
    assert draft.owner.username == "workbench-seeds"
    assert (
        FirearmBinding.objects.get(action_name="github:admin_write").firearm.firearm_id
        == "firearm.destructive_op"
    )
    assert not FirearmBinding.objects.filter(action_name="github:read_public").exists()
    assert ComponentSpec.objects.get(spec_id="stripe").metadata["entitlements"] == ["billing.stripe_connect"]
    assert ToolDefinition.objects.filter(name="leads.create").exists()


def test_seed_connector_changed_without_a_version_bump_is_refused(tmp_path, monkeypatch):
    load("dev")
    seeds = tmp_path / "seeds"
    (seeds / "connectors").mkdir(parents=True)
    github = json.loads((loading.SEEDS_DIR / "connectors" / "github.json").read_text())
    github["spec_snapshot"]["description"] = "Edited in the seed, same version"
    (seeds / "connectors" / "github.json").write_text(json.dumps(github))
    monkeypatch.setattr(loading, "SEEDS_DIR", seeds)
    before = dumpdata()
    with pytest.raises(CommandError) as err:
        load("dev")
    assert "connectors/github.json: field spec_snapshot: github 1.2.0 is published with other content" in str(
        err.value
    )
    assert dumpdata() == before


def test_promote_published_state_from_one_database_to_another(tmp_path):
    """A version published in dev is dumped, planned against prod, then loaded: prod serves it too.

    The "dev database" is a savepoint rolled back after its dump, leaving the prod state behind."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from workbench.models import Tenant
    from workbench.services.drafts import draft_create, draft_publish, draft_validate

    load("prod")
    dev_dump = tmp_path / "dev.json"
    with transaction.atomic():
        load("dev")
        publisher = get_user_model().objects.get(username="workbench-seeds")
        tenant = Tenant.objects.get(slug="workbench")
        draft = draft_create(tenant=tenant, user=publisher, connector_id="slack")  # from live, next patch
        draft_validate(draft_id=draft.pk, user=publisher)
        draft_publish(draft_id=draft.pk, user=publisher)
        with dev_dump.open("w") as stream:
            environments.environment_dump(stream=stream)
        transaction.set_rollback(True)
    assert Connector.objects.get(connector_id="slack").latest_spec.version == "0.4.1"

    plan = run("load_environment", str(dev_dump), "--plan")
    changes = sorted(line for line in plan.splitlines() if line.startswith(("created", "updated")))
    assert changes == [
        "created  registries.componentspec slack/0.4.2",
        "created  registries.scope slack/0.4.2/post_message",
        "created  registries.scope slack/0.4.2/read_channels",
        "updated  registries.connector slack (latest_spec)",
    ]
    assert Connector.objects.get(connector_id="slack").latest_spec.version == "0.4.1"
    environments.environment_load(name=str(dev_dump))
    assert Connector.objects.get(connector_id="slack").latest_spec.version == "0.4.2"
    assert "no changes" in run("load_environment", str(dev_dump))


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_plain_loaddata_works_on_every_fixture(env):
    """Fixtures carry no primary keys. Seeds numbered 50 and up refer to the example connectors, which
    only the publish path creates, so they load with loaddata once the connectors are live."""
    fixtures = [path for kind, path in loading.environment_files(env) if kind == "fixture"]
    assert all("pk" not in entry for path in fixtures for entry in json.loads(path.read_text()))
    shared = [path for path in fixtures if path.parent == loading.SEEDS_DIR and path.name < "50"]
    call_command("loaddata", *map(str, shared), verbosity=0)
    assert Firearm.objects.filter(firearm_id="firearm.external_write").exists()
    load(env)
    call_command("loaddata", *map(str, fixtures), verbosity=0)
    assert "no changes" in load(env)


@pytest.mark.parametrize("name", ["/etc", "../fixtures/dev", "missing.json"])
def test_only_known_environments_or_existing_json_files_load(name):
    with pytest.raises(CommandError, match="Unknown environment"):
        run("load_environment", name)


def test_dev_demo_editor_can_draft_validate_and_publish_and_invoke_a_tool():
    """The people the dev fixtures describe can do what they are there for, through the API."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from workbench.models import Tenant

    load("dev")
    editor = (
        __import__("django.contrib.auth", fromlist=["get_user_model"])
        .get_user_model()
        .objects.get(username="demo-editor")
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=editor)[1]}")
    # The example connectors belong to the platform tenant that published them from the seeds: acme
    # opens no draft of them.
    refused = client.post("/api/v1/drafts/", {"connector_id": "github", "tenant": "acme"}, format="json")
    assert refused.status_code == 403, refused.content
    assert (refused.json()["code"], refused.json()["owner"]) == ("not_connector_owner", "workbench")
    # A connector of acme's own: drafted, validated and published by the demo editor.
    policy = {"firearms": {"admin_write": "firearm.destructive_op", "read_public": None}, "kpis": {}}
    created = client.post(
        "/api/v1/drafts/",
        {"connector_id": "acme-files", "tenant": "acme", "spec_snapshot": draft_spec("acme-files", "0.1.0"),
         "policy_snapshot": policy},
        format="json",
    )
    assert created.status_code == 201, created.content
    draft_id = created.json()["id"]
    validated = client.post(f"/api/v1/drafts/{draft_id}/validate/")
    assert validated.status_code == 200, validated.content
    published = client.post(f"/api/v1/drafts/{draft_id}/publish/")
    assert published.status_code == 200, published.content
    acme_files = Connector.objects.get(connector_id="acme-files")
    assert (acme_files.latest_spec.version, acme_files.owner.slug) == ("0.1.0", "acme")
    assert Connector.objects.get(connector_id="github").latest_spec.version == "1.2.0"
    assert Tenant.objects.get(slug="acme").memberships.filter(user=editor).exists()
    invoked = client.post(
        "/api/v1/tools/os.list_tasks/invoke/", {"call_id": "c1", "input": {}, "tenant": "acme"}, format="json"
    )
    assert invoked.status_code == 200, invoked.content
