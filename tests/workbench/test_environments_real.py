"""The real environments (seeds/ and fixtures/dev, staging, prod): each loads twice with no change, the
example connectors are published through drafts, dev's demo logins need debug or a flag, a published
state is promoted between databases, plain loaddata works, and the demo editor works in its tenant."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from policies.models import Firearm, FirearmBinding
from registries.models import Connector
from tests.workbench.environments_kit import dumpdata, load, run
from tests.workbench.factories import api_walk_to, draft_spec, walk_to
from workbench.services import environments
from workbench.services.environments import loading

pytestmark = pytest.mark.django_db


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
        == "firearm.external_write"
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
        walk_to(draft, publisher)
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
    api_walk_to(client, f"/api/v1/drafts/{draft_id}/")
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
