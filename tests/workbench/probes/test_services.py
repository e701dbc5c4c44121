"""Probe services with the runner stood in for: requests queue a row and run it once the request
commits; an import creates the draft from the served tools in the transaction that marks it succeeded;
a check stores findings against the revision it probed; refusals and lost probes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registries.models import Connector
from tests.workbench.factories import (
    ProbeFactory,
    TenantFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
)
from tests.workbench.probes.kit import SERVED, editor, outcome
from workbench.kit.refusals import Refusal
from workbench.models import Membership, Probe, WorkbenchDraft
from workbench.services.drafts import draft_update
from workbench.services.probes import (
    compare_tools,
    probe_claim,
    probe_request_check,
    probe_request_import,
    probes_fail_overdue,
)

pytestmark = pytest.mark.django_db


def _import(user, django_capture_on_commit_callbacks, **kwargs):
    values = {
        "registry_type": "pypi", "identifier": "notes-server", "version": "1.2.3", "connector_id": "notes"
    }
    values.update(kwargs)
    tenant = values.pop("tenant", None) or user.memberships.get().tenant
    with django_capture_on_commit_callbacks(execute=True):
        probe = probe_request_import(user=user, tenant=tenant, **values)
    probe.refresh_from_db()
    return probe


def test_an_import_creates_the_draft_from_the_served_tools(runner, django_capture_on_commit_callbacks):
    user = editor()
    probe = _import(user, django_capture_on_commit_callbacks)
    assert probe.status == "succeeded" and runner.calls == [probe.pk]
    draft = probe.created_draft
    names = [tool["name"] for tool in draft.spec_snapshot["tools"]]
    assert names == ["search_notes", "create_note", "delete_note"]
    assert {scope["name"]: scope["tools"] for scope in draft.spec_snapshot["scopes"]} == {
        "read_only": ["search_notes"], "write": ["create_note"], "destructive": ["delete_note"],
    }
    assert draft.policy_snapshot["firearms"] == {}  # left to a person
    assert draft.spec_snapshot["packaging"] == {
        "registry_type": "pypi", "identifier": "notes-server", "version": "1.2.3", "transport": "stdio",
    }
    assert draft.tenant_id == probe.tenant_id and draft.owner == user and draft.stage == "scoping"
    assert probe.server_name == "notes-server" and probe.timing == {"total_ms": 12}
    assert probe.started_at <= probe.finished_at and probe.deadline_at > probe.started_at


def test_nothing_runs_until_the_request_commits(runner, django_capture_on_commit_callbacks):
    user = editor()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        probe = probe_request_import(
            user=user, tenant=user.memberships.get().tenant, connector_id="notes",
            registry_type="npm", identifier="@acme/notes", version="1.0.0",
        )
    assert len(callbacks) == 1 and runner.calls == []
    assert Probe.objects.get(pk=probe.pk).status == "queued"


def test_a_failed_run_stores_reason_and_stderr_and_creates_no_draft(
    runner, django_capture_on_commit_callbacks
):
    runner.answer = outcome(ok=False, tools=[], reason="The server exited before answering initialize.",
                            stderr_tail="Traceback ...\nRuntimeError: boom")
    probe = _import(editor(), django_capture_on_commit_callbacks)
    assert probe.status == "failed" and probe.created_draft is None
    assert probe.reason == "The server exited before answering initialize."
    assert probe.stderr_tail.endswith("RuntimeError: boom")
    assert not WorkbenchDraft.objects.exists()


def test_a_runner_that_raises_fails_the_probe_instead_of_leaving_it_running(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broken(probe):
        raise OSError("no space left")

    monkeypatch.setattr("workbench.services.probes.running.outcome_of", broken)
    probe = _import(editor(), django_capture_on_commit_callbacks)
    assert probe.status == "failed" and "no space left" in probe.reason


def test_a_refused_draft_fails_the_probe_with_the_reason(runner, django_capture_on_commit_callbacks):
    user = editor()
    # Served tools that are not MCP tools: the draft is refused, the probe fails, nothing is half-written.
    runner.answer = outcome(tools=[{"name": "x"}, {"name": "x", "inputSchema": {"type": "object"}}])
    probe = _import(user, django_capture_on_commit_callbacks)
    assert probe.status == "failed" and probe.reason.startswith("The draft was not created")
    assert probe.created_draft is None and not WorkbenchDraft.objects.exists()


def test_a_connector_of_another_tenant_is_refused_before_anything_runs(runner):
    user = editor()
    Connector.objects.create(connector_id="notes", owner=TenantFactory(slug="other"))
    with pytest.raises(Refusal) as refused:
        probe_request_import(user=user, tenant=user.memberships.get().tenant, connector_id="notes",
                             registry_type="pypi", identifier="notes-server", version="1.2.3")
    assert refused.value.status == 403 and refused.value.code == "not_connector_owner"
    assert not Probe.objects.exists() and runner.calls == []


@pytest.mark.parametrize(
    ("registry_type", "identifier", "version", "field"),
    [
        ("pypi", "notes-server", ">=1.0", "version"),
        ("pypi", "notes-server", "latest", "version"),
        ("npm", "@acme/notes", "^1.2.0", "version"),
        ("npm", "Bad Name", "1.0.0", "identifier"),
        ("pypi", "-rf", "1.0", "identifier"),
        ("pypi", "notes\x00", "1.0", "identifier"),
        ("oci", "notes", "1.0.0", "registry_type"),
        ("local", "/etc/passwd", "", "identifier"),
    ],
)
def test_a_package_not_named_exactly_is_a_400_naming_the_field(
    runner, registry_type, identifier, version, field
):
    user = editor()
    with pytest.raises(Refusal) as refused:
        probe_request_import(user=user, tenant=user.memberships.get().tenant, connector_id="notes",
                             registry_type=registry_type, identifier=identifier, version=version)
    assert refused.value.status == 400 and [e["field"] for e in refused.value.errors] == [field]
    assert not Probe.objects.exists()


def test_a_viewer_cannot_start_a_probe(runner):
    viewer = editor(role=Membership.Role.VIEWER)
    with pytest.raises(Refusal) as refused:
        probe_request_import(user=viewer, tenant=viewer.memberships.get().tenant, connector_id="notes",
                             registry_type="pypi", identifier="notes-server", version="1.2.3")
    assert refused.value.status == 403
    draft = WorkbenchDraftFactory(tenant=viewer.memberships.get().tenant)
    with pytest.raises(Refusal) as refused:
        probe_request_check(user=viewer, draft_id=draft.pk)
    assert refused.value.status == 403 and not Probe.objects.exists()


def test_another_tenants_draft_does_not_exist_for_a_check(runner):
    draft = WorkbenchDraftFactory()
    with pytest.raises(Refusal) as refused:
        probe_request_check(user=editor(), draft_id=draft.pk)
    assert refused.value.status == 404


def _check(draft, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        probe = probe_request_check(user=user, draft_id=draft.pk)
    probe.refresh_from_db()
    return probe


def test_a_check_reports_a_tool_removed_from_the_draft_as_served_but_undeclared(
    runner, django_capture_on_commit_callbacks
):
    draft = WorkbenchDraftFactory()
    spec = dict(draft.spec_snapshot, tools=[dict(tool) for tool in SERVED])
    spec["scopes"] = [{"name": "notes", "tools": [tool["name"] for tool in SERVED]}]
    draft = draft_update(draft_id=draft.pk, user=draft.owner, base_revision=draft.revision,
                         changes={"spec_snapshot": spec, "policy_snapshot": {"firearms": {"notes": None}}})
    assert _check(draft, draft.owner, django_capture_on_commit_callbacks).findings == []
    spec = dict(
        spec, tools=spec["tools"][:2], scopes=[{"name": "notes", "tools": ["search_notes", "create_note"]}]
    )
    draft = draft_update(draft_id=draft.pk, user=draft.owner, base_revision=draft.revision,
                         changes={"spec_snapshot": spec})
    probe = _check(draft, draft.owner, django_capture_on_commit_callbacks)
    assert probe.status == "succeeded" and probe.draft_revision == draft.revision
    assert [(f["severity"], f["code"], f["path"]) for f in probe.findings] == [
        ("error", "served_not_declared", "probe.tools.delete_note")
    ]
    assert probe.registry_type == "npm" and probe.identifier == spec["packaging"]["identifier"]


def test_a_draft_with_nothing_to_probe_is_a_400():
    draft = WorkbenchDraftFactory(connector_id="bare", spec_snapshot=draft_spec("bare", packaging={}))
    with pytest.raises(Refusal) as refused:
        probe_request_check(user=draft.owner, draft_id=draft.pk)
    assert refused.value.status == 400 and refused.value.code == "validation_error"
    assert refused.value.errors[0]["code"] == "nothing_to_probe"


def test_compare_tools_names_the_json_path_where_schemas_and_annotations_differ():
    declared = [draft_tool("a", read_only=True), draft_tool("gone")]
    served = [draft_tool("a", read_only=False, inputSchema={"type": "object", "properties": {"q": {}}}),
              draft_tool("new")]
    found = {(f["severity"], f["code"], f["path"]) for f in compare_tools(declared, served)}
    assert found == {
        ("error", "declared_not_served", "probe.tools.gone"),
        ("error", "served_not_declared", "probe.tools.new"),
        ("warning", "inputschema_differs", "probe.tools.a.inputSchema.properties.q"),
        ("warning", "annotations_differs", "probe.tools.a.annotations.readOnlyHint"),
    }


def test_a_probe_is_claimed_once():
    probe = ProbeFactory(status="queued", started_at=None, finished_at=None)
    assert probe_claim(probe_id=probe.pk).status == "running"
    assert probe_claim(probe_id=probe.pk) is None


def test_a_running_probe_past_its_deadline_is_marked_failed_and_keeps_that_state():
    late = ProbeFactory(status="running", deadline_at=timezone.now() - timedelta(seconds=1))
    on_time = ProbeFactory(status="running", deadline_at=timezone.now() + timedelta(minutes=5))
    assert probes_fail_overdue() == 1
    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.status == "failed" and "worker stopped" in late.reason and on_time.status == "running"
    # The worker that lost it cannot store an outcome over the verdict.
    from workbench.services.probes import probe_store

    probe_store(probe_id=late.pk, outcome=outcome())
    late.refresh_from_db()
    assert late.status == "failed"


def test_the_recover_command_marks_lost_probes_failed():
    import io

    from django.core.management import call_command

    lost = ProbeFactory(status="running", deadline_at=timezone.now() - timedelta(minutes=1))
    out = io.StringIO()
    call_command("probes_recover", stdout=out)
    assert out.getvalue().strip() == "1 lost probe marked failed."
    lost.refresh_from_db()
    assert lost.status == "failed" and lost.finished_at is not None


def test_reading_a_lost_probe_through_the_api_reports_it_failed():
    from tests.workbench.factories import token_client

    lost = ProbeFactory(status="running", deadline_at=timezone.now() - timedelta(minutes=1))
    reader = editor(tenant=lost.tenant, perms=["workbench.view_workbenchdraft"])
    answer = token_client(reader).get(f"/api/v1/probes/{lost.pk}/").json()
    assert answer["status"] == "failed" and "worker stopped" in answer["reason"]


def test_a_probe_whose_outcome_cannot_be_stored_fails_instead_of_staying_running(
    runner, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("workbench.services.probes.running._create_draft", lambda probe, tools: broken())
    probe = _import(editor(), django_capture_on_commit_callbacks)
    assert probe.status == "failed" and "Storing the outcome failed" in probe.reason
    assert not WorkbenchDraft.objects.exists()
