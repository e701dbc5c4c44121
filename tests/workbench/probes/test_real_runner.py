"""The probe end to end with the real runner (workbench.probing, bubblewrap) and the small MCP servers of
tests/workbench/probe_servers, started from their path through the same probe code a package gets: an
import creates the draft with the served tools; a tool removed from the draft is reported served but
undeclared; a crashing and a hanging server end the probe failed, with reason and stderr tail, and no
draft. Tasks run at once (the immediate backend) when the request commits."""

import shutil
from pathlib import Path

import pytest

from tests.workbench.probes.kit import editor
from workbench.models import Probe, WorkbenchDraft
from workbench.services.drafts import draft_update
from workbench.services.probes import probe_request_check, probe_request_import

SERVERS = Path(__file__).resolve().parent.parent / "probe_servers"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not shutil.which("bwrap"), reason="bubblewrap is not installed (apt install bubblewrap)"
    ),
]


@pytest.fixture(autouse=True)
def probe_settings(settings, tmp_path):
    settings.WORKBENCH_PROBE_LOCAL_PATHS = [str(SERVERS)]
    settings.WORKBENCH_PROBE_CACHE_DIR = str(tmp_path / "cache")
    settings.WORKBENCH_PROBE_RUN_SECONDS = 8
    return settings


def _import(name, django_capture_on_commit_callbacks, user=None):
    user = user or editor()
    with django_capture_on_commit_callbacks(execute=True):
        probe = probe_request_import(
            user=user, tenant=user.memberships.get().tenant, connector_id="notes",
            registry_type="local", identifier=str(SERVERS / f"{name}.py"), version="",
        )
    probe.refresh_from_db()
    return probe


def test_import_creates_the_draft_with_the_served_tools_then_a_removed_tool_is_served_but_undeclared(
    django_capture_on_commit_callbacks,
):
    probe = _import("normal", django_capture_on_commit_callbacks)
    assert probe.status == "succeeded", (probe.reason, probe.stderr_tail)
    assert (probe.server_name, probe.server_version) == ("probe-fixture", "1.2.3") and probe.isolated
    draft = probe.created_draft
    names = [tool["name"] for tool in draft.spec_snapshot["tools"]]
    assert names == ["search_notes", "create_note", "delete_note"]
    assert draft.spec_snapshot["tools"][0]["inputSchema"]["required"] == ["query"]
    assert {scope["name"] for scope in draft.spec_snapshot["scopes"]} == {"read_only", "write", "destructive"}
    assert draft.policy_snapshot["firearms"] == {}

    spec = dict(draft.spec_snapshot)
    spec["tools"] = [tool for tool in spec["tools"] if tool["name"] != "delete_note"]
    spec["scopes"] = [scope for scope in spec["scopes"] if scope["name"] != "destructive"]
    draft = draft_update(draft_id=draft.pk, user=draft.owner, base_revision=draft.revision,
                         changes={"spec_snapshot": spec})
    with django_capture_on_commit_callbacks(execute=True):
        check = probe_request_check(user=draft.owner, draft_id=draft.pk)
    check.refresh_from_db()
    assert check.status == "succeeded" and check.draft_revision == draft.revision
    assert [(f["severity"], f["code"], f["path"]) for f in check.findings] == [
        ("error", "served_not_declared", "probe.tools.delete_note")
    ]


@pytest.mark.parametrize(
    ("server", "said"),
    [("crashing", "configuration file /etc/notes.toml is missing"), ("hanging", "warming up forever")],
)
def test_a_crashing_or_hanging_server_fails_the_probe_with_reason_and_stderr_and_no_draft(
    server, said, django_capture_on_commit_callbacks
):
    probe = _import(server, django_capture_on_commit_callbacks)
    assert probe.status == "failed" and probe.reason
    assert said in probe.stderr_tail
    assert probe.created_draft is None and not WorkbenchDraft.objects.exists()
    assert probe.finished_at is not None and Probe.objects.get().status == "failed"
