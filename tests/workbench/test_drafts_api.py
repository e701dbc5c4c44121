import json

import pytest

from registries.models import Connector
from tests.policies.factories import FirearmFactory
from tests.workbench.factories import (
    MembershipFactory,
    UserFactory,
    WorkbenchDraftFactory,
    api_walk_to,
    draft_spec,
    draft_tool,
    token_client,
)
from workbench.models import Membership, WorkbenchDraft

pytestmark = pytest.mark.django_db

DRAFT_PERMS = [
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
]
URL = "/api/v1/drafts/"


def member(tenant=None, perms=DRAFT_PERMS, role=Membership.Role.EDITOR, **kwargs):
    user = UserFactory(perms=perms, **kwargs)
    MembershipFactory(user=user, role=role, **({"tenant": tenant} if tenant else {}))
    return user


def test_create_read_and_list_only_the_callers_tenant():
    user = member()
    client = token_client(user)
    created = client.post(
        URL, {"connector_id": "github", "spec_snapshot": draft_spec("github")}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["id"].startswith("draft_") and body["revision"] == 1 and created["ETag"] == '"1"'
    assert body["owner"] == user.username and body["validation"]["passed"] is None
    WorkbenchDraftFactory()  # another tenant's draft
    listed = client.get(URL).json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]
    read = client.get(f"{URL}{body['id']}/")
    assert read.status_code == 200 and read["ETag"] == '"1"'


def test_other_tenants_drafts_are_not_found_on_every_endpoint():
    draft = WorkbenchDraftFactory()
    client = token_client(member(perms=[*DRAFT_PERMS, "workbench.publish_workbenchdraft"]))
    item = f"{URL}{draft.pk}/"
    calls = [
        client.get(item),
        client.patch(item, {"stage": "policy"}, format="json", HTTP_IF_MATCH='"1"'),
        client.put(item, {"stage": "policy"}, format="json", HTTP_IF_MATCH='"1"'),
        client.post(f"{item}validate/"),
        client.post(f"{item}publish/"),
        client.get(f"{item}history/"),
        client.get(f"{item}diff/?from=1&to=1"),
        client.post(f"{item}restore/", {"revision": 1}, format="json", HTTP_IF_MATCH='"1"'),
    ]
    assert [response.status_code for response in calls] == [404] * len(calls)
    assert calls[0]["Content-Type"] == "application/problem+json"


def test_update_needs_if_match_refuses_stale_and_records_the_api_user():
    draft = WorkbenchDraftFactory()
    editor = member(tenant=draft.tenant, username="editor-one")
    client = token_client(editor)
    item = f"{URL}{draft.pk}/"
    missing = client.patch(item, {"stage": "scoping"}, format="json")
    assert missing.status_code == 428 and missing.json()["code"] == "precondition_required"
    ok = client.patch(
        item, {"stage": "scoping"}, format="json", HTTP_IF_MATCH='"1"', HTTP_X_CHANGE_REASON="why not"
    )
    assert ok.status_code == 200 and ok["ETag"] == '"2"' and ok.json()["revised_by"] == "editor-one"
    stale = token_client(member(tenant=draft.tenant)).patch(
        item, {"stage": "policy"}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["code"] == "precondition_failed" and "editor-one" in problem["detail"]
    assert problem["current_revision"] == 2 and problem["changed_by"] == "editor-one"
    history = client.get(f"{item}history/").json()["results"]
    assert [(h["revision"], h["user"], h["reason"]) for h in history][0] == (2, "editor-one", "why not")


def test_card_rules_answer_400_per_field():
    draft = WorkbenchDraftFactory()
    client = token_client(member(tenant=draft.tenant))
    spec = draft_spec(draft.connector_id, version="0.9.0")
    response = client.patch(f"{URL}{draft.pk}/", {"spec_snapshot": spec}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["spec_snapshot.version"]


def test_viewers_read_but_cannot_write():
    draft = WorkbenchDraftFactory()
    client = token_client(member(tenant=draft.tenant, role=Membership.Role.VIEWER))
    assert client.get(f"{URL}{draft.pk}/").status_code == 200
    response = client.patch(f"{URL}{draft.pk}/", {"stage": "policy"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 403


def test_validate_publish_and_conflict_on_second_publish():
    FirearmFactory(firearm_id="firearm.external_write")
    publisher = member(perms=[*DRAFT_PERMS, "workbench.publish_workbenchdraft"])
    tenant = publisher.memberships.get().tenant
    draft = WorkbenchDraftFactory(
        tenant=tenant,
        owner=publisher,
        connector_id="github",
        spec_snapshot=draft_spec("github"),
        policy_snapshot={"firearms": {"admin_write": "firearm.external_write"}},
    )
    client = token_client(publisher)
    item = f"{URL}{draft.pk}/"
    failed = client.post(f"{item}validate/").json()["validation"]
    assert failed["passed"] is False and failed["revision"] == 1
    assert [f["path"] for f in failed["findings"] if f["severity"] == "error"] == [
        "policy_snapshot.firearms.read_public"
    ]
    refused = client.post(f"{item}publish/")
    assert refused.status_code == 409 and refused.json()["code"] == "validation_failed"
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    client.patch(item, {"policy_snapshot": policy}, format="json", HTTP_IF_MATCH='"1"')
    api_walk_to(client, item)
    assert client.post(f"{item}validate/").json()["validation"]["passed"] is True
    assert client.post(f"{item}publish/", HTTP_IF_MATCH='"1"').status_code == 412
    published = client.post(f"{item}publish/", HTTP_IF_MATCH='"2"')
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert Connector.objects.get(connector_id="github").latest_spec.version == "1.2.0"
    again = client.post(f"{item}publish/")
    assert again.status_code == 409 and again.json()["code"] == "already_published"


def test_publish_needs_the_publish_permission():
    draft = WorkbenchDraftFactory()
    client = token_client(member(tenant=draft.tenant))
    assert client.post(f"{URL}{draft.pk}/publish/").status_code == 403


def test_diff_between_revisions_and_against_live():
    draft = WorkbenchDraftFactory()
    client = token_client(member(tenant=draft.tenant))
    item = f"{URL}{draft.pk}/"
    spec = draft_spec(draft.connector_id, scopes=[{"name": "admin_write", "tools": ["delete_file"]}])
    client.patch(item, {"spec_snapshot": spec}, format="json", HTTP_IF_MATCH='"1"')
    changes = client.get(f"{item}diff/?from=1&to=2").json()["changes"]
    assert "scope read_public removed" in [c["summary"] for c in changes if c["area"] == "scopes"]
    live = client.get(f"{item}diff/").json()
    assert live["from"] == "live" and "scope admin_write added with 1 tool" in [
        c["summary"] for c in live["changes"]
    ]
    assert client.get(f"{item}diff/?from=abc").status_code == 400
    assert client.get(f"{item}diff/?from=1&to=9").status_code == 404


def test_restore_is_a_new_revision_and_needs_if_match():
    draft = WorkbenchDraftFactory()
    client = token_client(member(tenant=draft.tenant))
    item = f"{URL}{draft.pk}/"
    client.patch(item, {"stage": "policy"}, format="json", HTTP_IF_MATCH='"1"')
    assert client.post(f"{item}restore/", {"revision": 1}, format="json").status_code == 428
    restored = client.post(f"{item}restore/", {"revision": 1}, format="json", HTTP_IF_MATCH='"2"')
    assert (restored.status_code, restored["ETag"], restored.json()["stage"]) == (200, '"3"', "verification")


def test_a_revision_two_stages_on_is_restored_and_the_stage_stays():
    draft = WorkbenchDraftFactory()  # revision 1 at verification
    client = token_client(member(tenant=draft.tenant))
    item = f"{URL}{draft.pk}/"
    spec = {**draft.spec_snapshot, "version": "1.4.0", "description": "changed"}
    client.patch(item, {"stage": "scoping", "spec_snapshot": spec}, format="json", HTTP_IF_MATCH='"1"')

    restored = client.post(
        f"{item}restore/", {"revision": 1}, format="json", HTTP_IF_MATCH='"2"', HTTP_X_CHANGE_REASON="undo"
    )

    assert restored.status_code == 200, restored.json()
    body = restored.json()
    # The content of revision 1 comes back but for its version: a restore never lowers it.
    assert (restored["ETag"], body["stage"], body["spec_snapshot"]["version"]) == ('"3"', "scoping", "1.4.0")
    assert body["spec_snapshot"]["description"] == draft.spec_snapshot["description"]
    latest = client.get(f"{item}history/").json()["results"][0]
    assert (latest["revision"], latest["stage"]) == (3, "scoping")
    assert latest["reason"] == (
        "undo (stage stays scoping, verification is 2 stages on; version kept at 1.4.0)"
    )


def tools_list(count=3):
    return {
        "tools": [
            draft_tool("list_issues", read_only=True),
            draft_tool("create_issue", destructive=False),
            draft_tool("delete_repo"),
        ]
        + [draft_tool(f"extra_{i}", read_only=True) for i in range(count - 3)]
    }


def test_import_mcp_creates_a_draft_with_proposed_scopes_and_no_firearm_decisions():
    importer = member()
    client = token_client(importer)
    response = client.post(
        f"{URL}import-mcp/",
        {
            "connector_id": "github",
            "name": "GitHub",
            "version": "0.1.0",
            "tools_list": {"jsonrpc": "2.0", "id": 1, "result": tools_list()},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["stage"] == "scoping" and body["policy_snapshot"] == {"firearms": {}, "kpis": {}}
    assert {s["name"]: s["tools"] for s in body["spec_snapshot"]["scopes"]} == {
        "read_only": ["list_issues"],
        "write": ["create_issue"],
        "destructive": ["delete_repo"],
    }
    validated = client.post(f"{URL}{body['id']}/validate/").json()["validation"]
    undecided = sorted(f["path"] for f in validated["findings"] if f["code"] == "firearm_undecided")
    assert undecided == [f"policy_snapshot.firearms.{name}" for name in ("destructive", "read_only", "write")]
    first_save = WorkbenchDraft.objects.get(pk=body["id"]).history.earliest()
    assert (first_save.history_user, first_save.history_change_reason) == (importer, "imported from MCP")


def test_import_mcp_refuses_invalid_tools_one_error_per_problem():
    client = token_client(member())
    bad = tools_list()
    bad["tools"].append(
        {"name": "broken", "inputSchema": {"type": "object", "properties": {"a": {"type": 5}}}}
    )
    bad["tools"].append({"name": "no schema"})
    response = client.post(
        f"{URL}import-mcp/", {"connector_id": "github", "tools_list": json.dumps(bad)}, format="json"
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert "tools[3].inputSchema.properties.a.type" in fields
    assert {"tools[4]", "tools[4].name"} <= fields
    assert WorkbenchDraft.objects.count() == 0


def publishing_member():
    FirearmFactory(firearm_id="firearm.external_write")
    return member(perms=[*DRAFT_PERMS, "workbench.publish_workbenchdraft"])


# 10 digits overflow PostgreSQL's integer, 20 digits SQLite's: neither may ever reach the insert.
@pytest.mark.parametrize("version", ["1.0.9999999999", "1.0.99999999999999999999"])
def test_an_oversized_version_is_a_finding_and_publish_never_answers_500(version):
    client = token_client(publishing_member())
    created = client.post(
        URL, {"connector_id": "github", "spec_snapshot": draft_spec("github", version)}, format="json"
    )
    assert created.status_code == 201, created.json()
    item = f"{URL}{created.json()['id']}/"
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    client.patch(item, {"policy_snapshot": policy}, format="json", HTTP_IF_MATCH='"1"')
    walked = api_walk_to(client, item)
    validation = client.post(f"{item}validate/").json()["validation"]
    assert validation["passed"] is False
    assert [f["path"] for f in validation["findings"] if f["severity"] == "error"] == [
        "spec_snapshot.version"
    ]
    refused = client.post(f"{item}publish/")
    assert refused.status_code == 409 and refused.json()["code"] == "validation_failed"
    # A passing result stored under the looser rule: the registries refuse the version at publish.
    WorkbenchDraft.objects.filter(connector_id="github").update(
        validation_passed=True, validation_findings=[]
    )
    refused = client.post(f"{item}publish/")
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "validation_outdated"
    assert "version" in {error["field"] for error in refused.json()["errors"]}
    assert not Connector.objects.exists()
    # Moving the version up to an oversized one is refused at save already.
    moved = client.patch(
        item, {"spec_snapshot": draft_spec("github", "9999999999.0.0")}, format="json",
        HTTP_IF_MATCH=walked["ETag"],
    )
    assert moved.status_code == 400
    assert [e["field"] for e in moved.json()["errors"]] == ["spec_snapshot.version"]


def test_a_value_the_database_cannot_store_is_a_clear_refusal(monkeypatch):
    """The safety net under validation: an out-of-range number at the insert is a 409, nothing written."""
    client = token_client(publishing_member())
    created = client.post(
        URL, {"connector_id": "github", "spec_snapshot": draft_spec("github")}, format="json"
    )
    item = f"{URL}{created.json()['id']}/"
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    client.patch(item, {"policy_snapshot": policy}, format="json", HTTP_IF_MATCH='"1"')
    api_walk_to(client, item)
    assert client.post(f"{item}validate/").json()["validation"]["passed"] is True
    # Past every validator, the version parts become a number no integer column holds.
    monkeypatch.setattr("workbench.kit.semver.parse", lambda version: (2**70, 0, 0))
    refused = client.post(f"{item}publish/")
    assert refused.status_code == 409, refused.json()
    assert refused.json()["code"] == "value_out_of_range"
    assert not Connector.objects.exists()
    assert client.get(item).json()["status"] == "draft"


@pytest.mark.parametrize(
    ("section", "value"),
    [("packaging", "npm"), ("packaging", None), ("portability", ["x"]), ("portability", 3)],
)
def test_packaging_and_portability_must_be_objects(section, value):
    client = token_client(member())
    spec = draft_spec("github", **{section: value})
    created = client.post(URL, {"connector_id": "github", "spec_snapshot": spec}, format="json")
    assert created.status_code == 400, created.json()
    assert [e["field"] for e in created.json()["errors"]] == [f"spec_snapshot.{section}"]
    assert not WorkbenchDraft.objects.exists()
    draft = WorkbenchDraftFactory(connector_id="github", tenant=Membership.objects.get().tenant)
    updated = client.patch(f"{URL}{draft.pk}/", {"spec_snapshot": spec}, format="json", HTTP_IF_MATCH='"1"')
    assert updated.status_code == 400
    assert [e["field"] for e in updated.json()["errors"]] == [f"spec_snapshot.{section}"]


def test_validate_refuses_published_and_abandoned_drafts():
    publisher = publishing_member()
    client = token_client(publisher)
    spec = draft_spec("github")
    created = client.post(URL, {"connector_id": "github", "spec_snapshot": spec}, format="json").json()
    item = f"{URL}{created['id']}/"
    policy = {"firearms": {"admin_write": "firearm.external_write", "read_public": None}, "kpis": {}}
    client.patch(item, {"policy_snapshot": policy}, format="json", HTTP_IF_MATCH='"1"')
    api_walk_to(client, item)
    client.post(f"{item}validate/")
    assert client.post(f"{item}publish/").status_code == 200
    before = client.get(item).json()["validation"]
    refused = client.post(f"{item}validate/")
    assert refused.status_code == 409 and refused.json()["code"] == "draft_not_editable"
    assert client.get(item).json()["validation"] == before and before["passed"] is True

    other = client.post(URL, {"connector_id": "gitlab", "spec_snapshot": draft_spec("gitlab")}, format="json")
    other_item = f"{URL}{other.json()['id']}/"
    client.patch(other_item, {"status": "abandoned"}, format="json", HTTP_IF_MATCH='"1"')
    refused = client.post(f"{other_item}validate/")
    assert refused.status_code == 409 and refused.json()["code"] == "draft_not_editable"
    client.patch(other_item, {"status": "draft"}, format="json", HTTP_IF_MATCH='"2"')
    assert client.post(f"{other_item}validate/").status_code == 200
