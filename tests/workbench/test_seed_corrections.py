"""Upgrading a database loaded before the github seed was fixed (d41215e): the previously shipped github
1.2.0 (old_seeds/github-1.2.0-f3531dc.json, published here through the same draft path the loader used
then) is corrected to the seed's 1.2.0 by the next `load_environment`, as a recorded seed correction;
any other difference from the seed is still refused."""

import json
import shutil

import pytest
from django.core.management import CommandError

from policies.models import FirearmBinding, KpiToolBinding
from registries.models import ComponentSpec, Connector, Scope
from tests.workbench.environments_kit import dumpdata, load, run
from tests.workbench.test_seed_examples import SEED_001, comparable, seed_tables, tsv_rows
from workbench.kit.models import WriteOnceError
from workbench.selectors.drafts import live_connector_snapshot
from workbench.services.drafts.card import normalized_policy, normalized_spec
from workbench.services.environments import loading
from workbench.services.environments.corrections import SEED_CORRECTIONS, content_sha256
from workbench.services.environments.loading import LoadReport
from workbench.services.environments.seeding import publish_seed_connector

pytestmark = pytest.mark.django_db

OLD_GITHUB = loading.Path(__file__).parent / "old_seeds" / "github-1.2.0-f3531dc.json"
REASON = "seed correction: github 1.2.0 as seed 001 §3 shows it"


def _seed(path):
    return json.loads(path.read_text(encoding="utf-8"))


def load_old_dev(monkeypatch, tmp_path, github=None):
    """A dev database as the seeds before d41215e left it: the old github.json (or `github`), published
    by the loader through drafts, and the release-freeze lock without github:admin_write."""
    seeds = tmp_path / "seeds"
    shutil.copytree(loading.SEEDS_DIR, seeds)
    (seeds / "connectors" / "github.json").write_text(
        json.dumps(github) if github else OLD_GITHUB.read_text(encoding="utf-8"), encoding="utf-8"
    )
    fixtures = tmp_path / "fixtures"
    shutil.copytree(loading.FIXTURES_DIR, fixtures)
    policy = json.loads((fixtures / "dev" / "30_policy.json").read_text())
    for entry in policy:
        if entry["model"] == "policies.strategylock":
            entry["fields"]["actions"] = []
    (fixtures / "dev" / "30_policy.json").write_text(json.dumps(policy))
    with monkeypatch.context() as patched:
        patched.setattr(loading, "SEEDS_DIR", seeds)
        patched.setattr(loading, "FIXTURES_DIR", fixtures)
        assert "dev: loaded" in load("dev")


def test_the_recorded_digests_are_the_shipped_seed_and_the_seed_now():
    (correction,) = SEED_CORRECTIONS
    old, new = _seed(OLD_GITHUB), _seed(loading.SEEDS_DIR / "connectors" / "github.json")
    assert content_sha256(normalized_spec(old["spec_snapshot"], "github")) == correction.shipped_spec_sha256
    assert content_sha256(normalized_policy(old["policy_snapshot"])) == correction.shipped_policy_sha256
    assert content_sha256(normalized_spec(new["spec_snapshot"], "github")) == correction.seed_spec_sha256
    assert content_sha256(normalized_policy(new["policy_snapshot"])) == correction.seed_policy_sha256


def test_a_database_holding_the_shipped_github_is_corrected_to_the_seed(monkeypatch, tmp_path):
    load_old_dev(monkeypatch, tmp_path)
    (correction,) = SEED_CORRECTIONS
    old = ComponentSpec.objects.get(spec_id="github", version="1.2.0")
    # What publish stored then is what the recorded digests recognise.
    assert content_sha256(old.schema) == correction.shipped_spec_sha256
    assert content_sha256(live_connector_snapshot("github")[1]) == correction.shipped_policy_sha256
    assert FirearmBinding.objects.filter(action_name="github:write_issues").exists()

    out = load("dev")

    assert "dev: loaded" in out
    assert "corrected registries.connector github/1.2.0" in out
    seed = _seed(loading.SEEDS_DIR / "connectors" / "github.json")
    spec = ComponentSpec.objects.get(spec_id="github", version="1.2.0")
    assert spec.pk == old.pk and spec.published_at == old.published_at
    assert spec.schema == normalized_spec(seed["spec_snapshot"], "github")
    assert spec.description == "GitHub MCP server: repositories and files."
    assert spec.metadata["seed_correction"]["reason"] == REASON
    assert spec.metadata["seed_correction"]["replaced_spec_sha256"] == correction.shipped_spec_sha256
    assert spec.metadata["seed_correction"]["removed_scopes"] == ["write_issues"]
    assert spec.metadata["draft_id"] == old.metadata["draft_id"], "still names the draft that published it"
    assert sorted(Scope.objects.filter(spec=spec).values_list("name", flat=True)) == [
        "admin_write",
        "read_public",
    ]
    assert live_connector_snapshot("github")[1] == normalized_policy(seed["policy_snapshot"])
    assert not FirearmBinding.objects.filter(action_name="github:write_issues").exists()
    assert not KpiToolBinding.objects.filter(action_name="github:write_issues").exists()
    assert Connector.objects.get(connector_id="github").description == spec.description

    # History names the correction: the connector's row, each binding changed or removed.
    assert Connector.history.filter(connector_id="github").first().history_change_reason == REASON
    admin = FirearmBinding.history.filter(action_name="github:admin_write").first()
    assert (admin.history_type, admin.firearm.firearm_id, admin.history_change_reason) == (
        "~",
        "firearm.external_write",
        REASON,
    )
    dropped = FirearmBinding.history.filter(action_name="github:write_issues").first()
    assert (dropped.history_type, dropped.history_change_reason) == ("-", f"scope dropped: {REASON}")
    kpi = KpiToolBinding.history.filter(action_name="github:write_issues").first()
    assert (kpi.history_type, kpi.history_change_reason) == ("-", f"KPI removed: {REASON}")

    # The exports give back the seed document's example rows.
    for kind, title in (
        ("connectors", "A. Connector Registry Export"),
        ("policy-matrix", "B. Policy Matrix Export"),
    ):
        table = seed_tables(SEED_001.read_text())[title]
        exported = tsv_rows(run("export_tsv", kind))
        ids = {row["connector_id"] for row in comparable(table)}
        assert comparable(exported, ids) == comparable(table)

    before = dumpdata()
    assert "dev: no changes" in load("dev")
    assert dumpdata() == before


def test_a_later_version_keeps_its_live_bindings_while_the_old_one_is_corrected(monkeypatch, tmp_path):
    load_old_dev(monkeypatch, tmp_path)
    later = _seed(OLD_GITHUB)
    later["spec_snapshot"]["version"] = "1.3.0"
    (tmp_path / "github-1.3.0.json").write_text(json.dumps(later))
    publish_seed_connector(tmp_path / "github-1.3.0.json", report=LoadReport(), reason="staff")

    assert "corrected registries.connector github/1.2.0" in load("dev")

    seed = _seed(loading.SEEDS_DIR / "connectors" / "github.json")
    assert ComponentSpec.objects.get(spec_id="github", version="1.2.0").schema == normalized_spec(
        seed["spec_snapshot"], "github"
    )
    assert Connector.objects.get(connector_id="github").latest_spec.version == "1.3.0"
    # 1.3.0 is live: its three scopes keep their bindings.
    assert FirearmBinding.objects.get(action_name="github:write_issues").firearm.firearm_id == (
        "firearm.external_write"
    )
    assert FirearmBinding.objects.get(action_name="github:admin_write").firearm.firearm_id == (
        "firearm.destructive_op"
    )
    assert "dev: no changes" in load("dev")


def test_any_other_published_content_is_still_refused(monkeypatch, tmp_path):
    edited = _seed(OLD_GITHUB)
    edited["spec_snapshot"]["description"] = "Edited by hand."
    load_old_dev(monkeypatch, tmp_path, github=edited)
    before = dumpdata()

    with pytest.raises(CommandError, match="github 1.2.0 is published with other content; bump the version"):
        load("dev")

    assert dumpdata() == before


def test_the_shipped_content_with_other_live_decisions_is_refused(monkeypatch, tmp_path):
    load_old_dev(monkeypatch, tmp_path)
    # Changed outside any publish (say, by hand in the database): not what the shipped seed left.
    FirearmBinding.objects.filter(action_name="github:write_issues").delete()
    before = dumpdata()

    with pytest.raises(CommandError, match="live firearm or KPI decisions are not the shipped seed's"):
        load("dev")

    assert dumpdata() == before


def test_a_published_row_changes_only_through_an_explicit_correction(monkeypatch, tmp_path):
    load_old_dev(monkeypatch, tmp_path)
    spec = ComponentSpec.objects.get(spec_id="github", version="1.2.0")
    spec.description = "changed"
    with pytest.raises(WriteOnceError):
        spec.save()
    with pytest.raises(ValueError, match="names its reason"):
        spec.save_correction(reason=" ", update_fields=["description"])
    scope = Scope.objects.get(spec=spec, name="write_issues")
    with pytest.raises(WriteOnceError):
        scope.delete()
    assert ComponentSpec.objects.get(pk=spec.pk).description != "changed"
    assert Scope.objects.filter(pk=scope.pk).exists()
