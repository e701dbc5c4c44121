import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.services import strategy_lock_engage
from tests.policies.factories import FirearmFactory, KpiDefinitionFactory, StrategyLockFactory
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import (
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
    platform_staff,
)
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import check_draft_content, draft_update, draft_validate

pytestmark = pytest.mark.django_db


def findings_for(spec=None, policy=None, connector_id="github"):
    spec = spec if spec is not None else draft_spec(connector_id)
    policy = (
        policy if policy is not None else {"firearms": {"admin_write": None, "read_public": None}, "kpis": {}}
    )
    return check_draft_content(connector_id=connector_id, spec=spec, policy=policy)


def codes(findings, severity="error"):
    return {item["code"] for item in findings if item["severity"] == severity}


def test_the_example_draft_passes_with_only_a_risk_warning():
    found = findings_for()
    assert codes(found) == set()
    assert codes(found, "warning") == {"destructive_without_firearm"}


@pytest.mark.parametrize(
    ("mutate", "code", "path"),
    [
        (
            lambda s: s["tools"].append({"name": "bad tool!", "inputSchema": {"type": "object"}}),
            "contract",
            "spec_snapshot.tools[2].name",
        ),
        (lambda s: s["tools"].append({"name": "no_schema"}), "contract", "spec_snapshot.tools[2]"),
        (
            lambda s: s["tools"].append(draft_tool("weird", inputSchema={"type": "object", "properties": 3})),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.properties",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool(
                    "draft7",
                    inputSchema={
                        "$schema": "http://json-schema.org/draft-07/schema#",
                        "type": "object",
                        "required": "x",
                    },
                )
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.required",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool("alien", inputSchema={"$schema": "https://x.test/s", "type": "object"})
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.$schema",
        ),
        (lambda s: s["tools"].append(draft_tool("delete_file")), "duplicate", "spec_snapshot.tools"),
        (lambda s: s["scopes"][0]["tools"].append("ghost"), "unknown_tool", "spec_snapshot.scopes[0].tools"),
        (
            lambda s: s["scopes"].append({"name": "Bad-Name", "tools": []}),
            "contract",
            "spec_snapshot.scopes[2].name",
        ),
        (lambda s: s.update(id="gitlab"), "invalid", "spec_snapshot.id"),
        (
            lambda s: s["packaging"].update(version="^1.2.0"),
            "inexact_package_version",
            "spec_snapshot.packaging.version",
        ),
        (
            lambda s: s["packaging"].update(version="latest"),
            "inexact_package_version",
            "spec_snapshot.packaging.version",
        ),
        (
            lambda s: s["packaging"].update(version=">=1.0 <2"),
            "inexact_package_version",
            "spec_snapshot.packaging.version",
        ),
        (lambda s: s.update(scopes=[]), "no_scopes", "spec_snapshot.scopes"),
        (lambda s: s.update(version="1.0.9999999999"), "contract", "spec_snapshot.version"),
        (lambda s: s.update(version="1000000000.0.0"), "contract", "spec_snapshot.version"),
        # The tool registry's own schema checks: dangling local $ref, invalid regex, remote $ref.
        (
            lambda s: s["tools"].append(
                draft_tool(
                    "dangling", inputSchema={"type": "object", "properties": {"x": {"$ref": "#/nope"}}}
                )
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.properties.x.$ref",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool("bad_regex", inputSchema={"type": "object", "properties": {"x": {"pattern": "("}}})
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.properties.x.pattern",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool("bad_output", outputSchema={"type": "object", "pattern": "("})
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].outputSchema.pattern",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool("remote", inputSchema={"type": "object", "$ref": "https://x.test/s.json"})
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.$ref",
        ),
        (
            lambda s: s["tools"].append(
                draft_tool("list_dialect", inputSchema={"type": "object", "$schema": []})
            ),
            "invalid_json_schema",
            "spec_snapshot.tools[2].inputSchema.$schema",
        ),
    ],
)
def test_spec_findings_name_the_path(mutate, code, path):
    spec = draft_spec("github")
    mutate(spec)
    found = findings_for(spec=spec)
    assert (code, path) in {(item["code"], item["path"]) for item in found if item["severity"] == "error"}, (
        found
    )


def test_every_scope_needs_an_explicit_firearm_decision_null_is_none():
    found = findings_for(policy={"firearms": {"read_public": None}, "kpis": {}})
    missing = [item for item in found if item["code"] == "firearm_undecided"]
    assert [item["path"] for item in missing] == ["policy_snapshot.firearms.admin_write"]


def test_firearm_and_kpi_ids_must_exist():
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.change_failure_rate")
    policy = {
        "firearms": {"admin_write": "firearm.external_write", "read_public": "firearm.nope"},
        "kpis": {"admin_write": ["kpi.change_failure_rate", "kpi.ghost"], "nowhere": []},
    }
    found = findings_for(policy=policy)
    pairs = {(item["code"], item["path"]) for item in found}
    assert ("unknown_firearm", "policy_snapshot.firearms.read_public") in pairs
    assert ("unknown_kpi", "policy_snapshot.kpis.admin_write") in pairs
    assert ("unknown_scope", "policy_snapshot.kpis.nowhere") in pairs
    assert not any(item["message"].startswith("Firearm 'firearm.external_write'") for item in found)


def test_version_must_be_above_the_latest_published():
    ConnectorFactory(
        connector_id="github", latest_spec=ConnectorSpecFactory(spec_id="github", version="1.10.0")
    )
    found = findings_for(spec=draft_spec("github", "1.9.0"))
    assert "version_not_above_published" in codes(found)
    assert "version_not_above_published" not in codes(findings_for(spec=draft_spec("github", "1.10.1")))


def test_engaged_strategy_locks_covering_the_connector_scope_or_firearm_conflict():
    user = platform_staff(["policies.change_strategylock"])  # strategy locks are platform rows
    FirearmFactory(firearm_id="firearm.external_write")
    by_action = StrategyLockFactory(actions=["github:read_public"])
    by_firearm = StrategyLockFactory()
    by_firearm.firearms.add(FirearmFactory(firearm_id="firearm.external_write"))
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    assert "lock_conflict" not in codes(findings_for(policy=policy))
    for lock in (by_action, by_firearm):
        strategy_lock_engage(lock=lock, user=user, reason="freeze")
    paths = {item["path"] for item in findings_for(policy=policy) if item["code"] == "lock_conflict"}
    assert paths == {"spec_snapshot.scopes.read_public", "policy_snapshot.firearms.admin_write"}


@pytest.mark.parametrize("where", ["portability", "metadata"])
def test_a_declared_billing_entitlement_is_a_missing_dependency(where):
    spec = draft_spec("github", **{where: {"entitlements": ["pro_plan"]}})
    (item,) = [item for item in findings_for(spec=spec) if item["code"] == "missing_entitlement_store"]
    assert item["message"].startswith("missing dependency: entitlement store")


@pytest.mark.parametrize("entitlements", [["pro_plan", "pro_plan"], [""]])
@pytest.mark.parametrize("where", ["portability", "metadata"])
def test_declared_entitlements_are_distinct_names_wherever_declared(where, entitlements):
    # Both places declare the same thing (contract.declared_entitlements reads them alike), so the
    # contract holds them to the same rule.
    spec = draft_spec("github", **{where: {"entitlements": entitlements}})
    paths = {item["path"] for item in findings_for(spec=spec) if item["code"] == "contract"}
    assert paths and all(path.startswith(f"spec_snapshot.{where}.entitlements") for path in paths), paths


def big_draft(connector_id, tools=120, scopes=40):
    spec = draft_spec(
        connector_id,
        tools=[draft_tool(f"tool_{i}", read_only=True) for i in range(tools)],
        scopes=[
            {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, tools, scopes)]}
            for i in range(scopes)
        ],
    )
    return WorkbenchDraftFactory(
        connector_id=connector_id,
        spec_snapshot=spec,
        policy_snapshot={"firearms": {f"scope_{i}": None for i in range(scopes)}},
    )


def test_validation_query_count_does_not_grow_with_tools_and_scopes():
    counts = []
    for draft in (big_draft("small-one", tools=2, scopes=1), big_draft("big-one")):
        with CaptureQueriesContext(connection) as queries:
            draft_validate(draft_id=draft.pk, user=draft.owner)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_validate_stores_the_result_tied_to_the_revision_and_keeps_the_revision():
    draft = big_draft("connector-x")
    draft_validate(draft_id=draft.pk, user=draft.owner)
    draft.refresh_from_db()
    assert draft.validation_passed is True and draft.validated_revision == 1 and draft.revision == 1
    # Nothing but the note that no sandbox probe checked this revision (it never blocks by default).
    assert [f["code"] for f in draft.validation_findings] == ["no_probe"]
    assert draft.validation_findings[0]["severity"] == "info" and draft.validated_by == draft.owner
    assert draft.history.first().history_change_reason == "validated revision 1: passed"
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": "policy"})
    draft.refresh_from_db()
    assert not draft.validation_is_current and not draft.publishable


@pytest.mark.parametrize(
    "spec",
    [
        {
            "tools": [{"name": ["x"]}, 5, {"name": "a", "annotations": [1]}],
            "scopes": [{"name": {}, "tools": [{}]}],
        },
        {"tools": "nope", "scopes": [{"name": "s", "tools": [[1], "a"]}], "skills": [{"spec_id": []}]},
        {"id": "github", "version": 3, "packaging": "npm", "portability": {"entitlements": "pro"}},
    ],
)
def test_malformed_content_gives_findings_never_a_crash(spec):
    policy = {"firearms": {"s": ["x"]}, "kpis": {"s": [{}], "t": "kpi.a"}}
    found = check_draft_content(connector_id="github", spec=spec, policy=policy)
    assert any(item["severity"] == "error" for item in found)


def test_malformed_draft_still_renders_its_card_and_diff(client):
    from django.contrib.admin.utils import quote
    from django.urls import reverse

    from tests.workbench.factories import MembershipFactory, StaffFactory
    from workbench.selectors.draft_diff import diff_states, draft_diff_against_live

    spec = {
        "id": "weird",
        "tools": [{"name": ["x"]}, {"name": "a", "annotations": [1]}],
        "scopes": [{"name": {}, "tools": [{}]}, {"name": "s", "tools": 5}],
    }
    draft = WorkbenchDraftFactory(
        connector_id="weird", spec_snapshot=spec, policy_snapshot={"firearms": {"s": None}, "kpis": {"s": 3}}
    )
    user = StaffFactory(perms=["workbench.view_workbenchdraft", "workbench.change_workbenchdraft"])
    MembershipFactory(user=user, tenant=draft.tenant)
    client.force_login(user)
    card_url = reverse("admin:workbench_workbenchdraft_change", args=[quote(draft.pk)])
    assert client.get(card_url).status_code == 200
    assert draft_diff_against_live(draft)
    assert diff_states({"spec_snapshot": spec}, {"spec_snapshot": draft_spec("weird")})
    draft_validate(draft_id=draft.pk, user=draft.owner)


def test_schema_checks_are_the_tool_registrys():
    from registries.schemas import schema_errors

    schema = {"type": "object", "properties": {"x": {"$ref": "#/nope"}, "y": {"pattern": "("}}}
    spec = draft_spec("github")
    spec["tools"][0]["inputSchema"] = schema
    drafted = {
        (item["path"], item["message"].lower())
        for item in findings_for(spec=spec)
        if item["code"] == "invalid_json_schema"
    }
    registry = {
        (item.path, item.message.lower())
        for item in schema_errors(schema, path="spec_snapshot.tools[0].inputSchema")
    }
    assert drafted == registry and len(registry) == 2


@pytest.mark.parametrize("status", ["published", "abandoned"])
def test_validate_refuses_a_draft_that_is_not_open_and_keeps_its_result(status):
    draft = WorkbenchDraftFactory()
    draft_validate(draft_id=draft.pk, user=draft.owner)
    WorkbenchDraft.objects.filter(pk=draft.pk).update(status=status, published_version="1.2.0")
    draft.refresh_from_db()
    stored = (draft.validation_passed, draft.validated_at, draft.history.count())
    with pytest.raises(Refusal) as refused:
        draft_validate(draft_id=draft.pk, user=draft.owner)
    assert refused.value.status == 409 and refused.value.code == "draft_not_editable"
    draft.refresh_from_db()
    assert (draft.validation_passed, draft.validated_at, draft.history.count()) == stored


# -- packaging: the MCP import page's rule (workbench.contract.packaging_problems) --------------------


def packaging_findings(packaging):
    spec = draft_spec("github")
    spec["packaging"] = packaging
    return [item for item in findings_for(spec=spec) if item["path"].startswith("spec_snapshot.packaging")]


@pytest.mark.parametrize(
    ("packaging", "expected"),
    [
        (
            {"registry_type": "oci", "identifier": "not a ref!!", "version": "1.0.0"},
            {("invalid_package_identifier", "spec_snapshot.packaging.identifier")},
        ),
        (
            {"registry_type": "npm", "identifier": "Not_An_Npm Name", "version": "^1.0.0"},
            {
                ("invalid_package_identifier", "spec_snapshot.packaging.identifier"),
                ("inexact_package_version", "spec_snapshot.packaging.version"),
            },
        ),
        (
            {"registry_type": "pypi", "identifier": "-bad-", "version": "latest"},
            {
                ("invalid_package_identifier", "spec_snapshot.packaging.identifier"),
                ("inexact_package_version", "spec_snapshot.packaging.version"),
            },
        ),
        (
            {"registry_type": "cargo", "identifier": "x", "version": "1.0.0"},
            {("contract", "spec_snapshot.packaging.registry_type")},
        ),
        (
            {"registry_type": "npm", "identifier": "", "version": 3},
            {
                ("contract", "spec_snapshot.packaging.identifier"),
                ("contract", "spec_snapshot.packaging.version"),
            },
        ),
        (
            {},
            {
                ("contract", "spec_snapshot.packaging.registry_type"),
                ("contract", "spec_snapshot.packaging.identifier"),
                ("contract", "spec_snapshot.packaging.version"),
            },
        ),
    ],
)
def test_packaging_the_import_page_refuses_fails_validation_each_problem_once(packaging, expected):
    from workbench.contract import packaging_problems

    found = packaging_findings(packaging)
    assert all(item["severity"] == "error" for item in found)
    assert {(item["code"], item["path"]) for item in found} == expected
    # Word for word the import page's messages, each once: the contract's whole-spec check does not
    # report the packaging's shape a second time.
    problems = packaging_problems(packaging, prefix="spec_snapshot.packaging")
    assert sorted((item["path"], item["message"]) for item in found) == sorted(
        (path, message) for path, messages in problems.items() for message in messages
    )


def test_packaging_that_is_not_an_object_or_missing_is_one_contract_finding():
    (item,) = packaging_findings("npm")
    assert (item["code"], item["path"]) == ("contract", "spec_snapshot.packaging")
    spec = draft_spec("github")
    del spec["packaging"]
    found = findings_for(spec=spec)
    assert [item["message"] for item in found if "packaging" in item["message"]] == [
        "'packaging' is a required property"
    ]


@pytest.mark.parametrize(
    "packaging",
    [
        {"registry_type": "npm", "identifier": "@acme/github-mcp", "version": "1.2.0", "transport": "stdio"},
        {"registry_type": "pypi", "identifier": "acme-github-mcp", "version": "0.4.1"},
        {"registry_type": "oci", "identifier": "ghcr.io/acme/github-mcp:1.2.0", "version": "1.2.0"},
        {"registry_type": "nuget", "identifier": "Acme.Github.Mcp", "version": "1.2.0"},
    ],
)
def test_good_packaging_gives_no_finding(packaging):
    assert packaging_findings(packaging) == []


def test_a_draft_with_a_bad_oci_reference_fails_validation_and_is_not_published():
    from tests.workbench.publish_kit import publisher
    from workbench.services.drafts import draft_publish

    FirearmFactory(firearm_id="firearm.external_write")
    packaging = {"registry_type": "oci", "identifier": "not a ref!!", "version": "1.2.0"}
    draft = WorkbenchDraftFactory(
        connector_id="github",
        owner=publisher(),
        spec_snapshot=draft_spec("github", packaging=packaging),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write", "read_public": None}},
    )
    draft_validate(draft_id=draft.pk, user=draft.owner)
    draft.refresh_from_db()
    assert draft.validation_passed is False
    assert codes(draft.validation_findings) == {"invalid_package_identifier"}
    with pytest.raises(Refusal) as refused:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert refused.value.code == "validation_failed"
    assert WorkbenchDraft.objects.get(pk=draft.pk).status == WorkbenchDraft.Status.DRAFT
