"""The probe runner (workbench.probing) against the small servers in tests/workbench/probe_servers,
started from their path through the same sandbox a package gets. No database needed; runs on either."""

import json
import os
import re
import shutil
import subprocess
import time

import pytest

from tests.workbench.probing_kit import SERVERS, local, needs_bwrap, package, probe
from workbench.probing import ProbeLimits, ProbeTarget, run_probe, sandbox


def inspect_report(outcome):
    line = next(line for line in outcome.stderr_tail.splitlines() if line.startswith("inspect: "))
    return json.loads(line.removeprefix("inspect: "))


@needs_bwrap
def test_serves_every_tool_of_every_page_with_schemas_and_annotations(tmp_path):
    outcome = probe(tmp_path, local("normal"))

    assert outcome.ok, outcome.reason
    assert outcome.reason == ""
    assert (outcome.server_name, outcome.server_version) == ("probe-fixture", "1.2.3")
    assert outcome.protocol_version
    assert outcome.isolated is True
    # delete_note is on the second tools/list page: the cursor was followed.
    assert [tool["name"] for tool in outcome.tools] == ["search_notes", "create_note", "delete_note"]
    search, create, delete = outcome.tools
    assert search == {
        "name": "search_notes",
        "title": "Search notes",
        "description": "Find notes by text.",
        "inputSchema": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
            "required": ["query"],
        },
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
    }
    assert create["annotations"] == {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False}
    assert delete["annotations"] == {"destructiveHint": True, "idempotentHint": True}
    assert delete["inputSchema"]["required"] == ["id"]
    assert set(outcome.timing) == {"install_ms", "start_ms", "initialize_ms", "tools_list_ms", "total_ms"}
    assert outcome.timing["total_ms"] >= outcome.timing["initialize_ms"] > 0


@needs_bwrap
def test_a_server_that_crashes_fails_with_its_exit_code_and_stderr(tmp_path):
    outcome = probe(tmp_path, local("crashing"))

    assert not outcome.ok
    assert outcome.reason == "the server exited before answering initialize (exit code 3)"
    assert "configuration file /etc/notes.toml is missing" in outcome.stderr_tail
    assert outcome.tools == []


@needs_bwrap
def test_a_server_that_never_answers_fails_within_the_run_limit(tmp_path):
    started = time.monotonic()
    outcome = probe(tmp_path, local("hanging"), limits=ProbeLimits(run_seconds=3))
    elapsed = time.monotonic() - started

    assert not outcome.ok
    assert outcome.reason == "no answer to initialize within 3 s"
    assert "warming up forever" in outcome.stderr_tail
    assert elapsed < 3 + 10  # a bound (stopping the server takes a few seconds), not a speed target


@needs_bwrap
def test_a_server_that_eats_memory_fails_with_a_memory_reason(tmp_path):
    outcome = probe(tmp_path, local("memory_hog"), limits=ProbeLimits(memory_mb=128))

    assert not outcome.ok
    assert outcome.reason.startswith("the server exceeded the memory limit (128 MB)")
    assert "MemoryError" in outcome.stderr_tail


@needs_bwrap
def test_the_sandbox_has_no_network(tmp_path):
    outcome = probe(tmp_path, local("network"))

    # A server with no tools capability serves no tools: that is a successful probe.
    assert outcome.ok, outcome.reason
    assert outcome.tools == []
    assert "cannot connect to 1.1.1.1:53" in outcome.stderr_tail
    assert "cannot connect to 127.0.0.1:5432" in outcome.stderr_tail
    assert "connected to" not in outcome.stderr_tail.replace("cannot connect to", "")


@needs_bwrap
def test_the_server_sees_a_clean_environment_and_a_read_only_system(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://workbench:secret@db/workbench")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-servers")

    outcome = probe(tmp_path, local("inspecting"))

    assert outcome.ok, outcome.reason
    report = inspect_report(outcome)
    assert report["env"] == ["HOME", "LANG", "PATH", "PWD", "TMPDIR"]  # bwrap sets PWD with --chdir
    assert report["home"] == "/tmp"
    assert report["sees_project_readme"] is False  # only the script's own directory is bound
    assert report["can_write_own_dir"] is False
    assert report["can_write_tmp"] is True


def test_refuses_to_run_unisolated_when_bubblewrap_is_missing(tmp_path):
    outcome = probe(tmp_path, local("normal"), bwrap=str(tmp_path / "no-bwrap"))

    assert not outcome.ok
    assert outcome.isolated is False
    assert outcome.reason.startswith("cannot isolate the server: bubblewrap")
    assert "WORKBENCH_PROBE_ALLOW_UNISOLATED=1" in outcome.reason
    assert outcome.tools == []


def test_refuses_when_user_namespaces_are_off(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "check_isolation", lambda bwrap, paths: "bubblewrap cannot create a sandbox")

    outcome = probe(tmp_path, local("normal"))

    assert not outcome.ok
    assert "cannot isolate the server: bubblewrap cannot create a sandbox" in outcome.reason


def test_allow_unisolated_runs_with_the_limits_and_a_clean_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://workbench:secret@db/workbench")
    missing = str(tmp_path / "no-bwrap")

    served = probe(tmp_path, local("normal"), bwrap=missing, allow_unisolated=True)
    assert served.ok, served.reason
    assert served.isolated is False
    assert [tool["name"] for tool in served.tools] == ["search_notes", "create_note", "delete_note"]

    hog = probe(tmp_path, local("memory_hog"), bwrap=missing, allow_unisolated=True,
                limits=ProbeLimits(memory_mb=128))
    assert not hog.ok
    assert hog.reason.startswith("the server exceeded the memory limit (128 MB)")

    # A copy, so a write the unisolated server manages lands in tmp_path, not in the work tree.
    copy = tmp_path / "inspecting.py"
    shutil.copy(SERVERS / "inspecting.py", copy)
    inspected = probe(tmp_path, ProbeTarget(kind="local", identifier=str(copy)), bwrap=missing,
                      allow_unisolated=True)
    assert inspected.ok, inspected.reason
    report = inspect_report(inspected)
    assert {"HOME", "LANG", "PATH", "TMPDIR"} <= set(report["env"]) <= {"HOME", "LANG", "PATH", "PWD",
                                                                        "TMPDIR"}
    assert report["home"] != os.environ.get("HOME")


@needs_bwrap
def test_node_starts_under_the_default_memory_limit(tmp_path):
    """V8 reserves far more address space than it uses: the limit must not stop node from starting."""
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    status = tmp_path / "status.json"
    launch = sandbox.isolated_launch(
        "bwrap", ["node", "-e", "console.log(Buffer.alloc(64 * 1024 * 1024).length)"],
        read_only_paths=sandbox.node_paths(), extra_path=[], memory_mb=ProbeLimits().memory_mb,
        status_path=status,
    )
    result = subprocess.run([launch.command, *launch.args], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(64 * 1024 * 1024)
    assert sandbox.exit_code(status) == 0


@needs_bwrap
def test_a_server_flooding_stderr_is_cut_at_the_file_limit_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "FILE_MAX_MB", 1)

    outcome = probe(tmp_path, local("chatty"))

    assert outcome.ok, outcome.reason
    assert len(outcome.tools) == 3
    assert "chatty: done" not in outcome.stderr_tail  # 4 MB were written, 1 MB was kept
    numbers = [int(number) for number in re.findall(r"chatty line (\d{6}) ", outcome.stderr_tail)]
    line_bytes = len(f"chatty line 000000 {'.' * 24}\n")
    assert numbers and max(numbers) * line_bytes < 1024 * 1024  # the last line kept lies within 1 MB


@needs_bwrap
def test_the_command_line_prints_what_a_server_serves(tmp_path, capsys):
    from workbench.probing.__main__ import main

    assert main(["local", str(SERVERS / "normal.py"), "--cache-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("ok: probe-fixture 1.2.3 (protocol ")
    assert "  delete_note  [destructiveHint=True, idempotentHint=True]" in printed

    assert main(["pypi", "mcp-server-time", "latest", "--cache-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out.startswith("failed: version: 'latest' is not one exact PEP 440 version")


@needs_bwrap
def test_a_cache_directory_that_cannot_be_used_is_a_failed_probe(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")

    outcome = run_probe(package(), cache_dir=blocked / "cache")

    assert not outcome.ok
    assert outcome.reason.startswith("the probe could not run on this machine: ")
