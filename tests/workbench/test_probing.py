"""The probe runner (workbench.probing) against the small servers in tests/workbench/probe_servers, started
from their path through the same sandbox a package gets. No database needed; runs on either."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from workbench.probing import (
    InvalidTarget,
    ProbeLimits,
    ProbeTarget,
    run_probe,
    sandbox,
    validate_target,
)
from workbench.probing import runner as probe_runner
from workbench.probing.cache import PackageCache, entry_key

SERVERS = Path(__file__).parent / "probe_servers"
BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap is not installed (apt install bubblewrap)")


def local(name):
    return ProbeTarget(kind="local", identifier=str(SERVERS / f"{name}.py"))


def probe(tmp_path, target, **options):
    return run_probe(target, cache_dir=tmp_path / "cache", **options)


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


# The cache, with an installer that builds a venv around the normal server (no network needed).

class FakeInstaller:
    def __init__(self, padding_bytes=0, delay=0.0):
        self.calls = []
        self.padding_bytes = padding_bytes
        self.delay = delay

    def __call__(self, target, build_path, *, seconds):
        self.calls.append(target)
        venv = build_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python*/site-packages"))
        (site / "project.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        (venv / "bin" / target.identifier).write_text((SERVERS / "normal.py").read_text())
        (venv / "padding").write_bytes(b"x" * self.padding_bytes)
        time.sleep(self.delay)  # a slow download: lets two workers overlap
        return {"kind": "pypi", "bins": [target.identifier], "installed_version": target.version}


def package(name="notes-server", version="1.0.0"):
    return ProbeTarget(kind="pypi", identifier=name, version=version)


@needs_bwrap
def test_a_cached_package_is_reused_without_installing_again(tmp_path, monkeypatch):
    installer = FakeInstaller()
    monkeypatch.setattr(probe_runner, "install", installer)

    first = probe(tmp_path, package())
    second = probe(tmp_path, package())

    assert first.ok and second.ok, (first.reason, second.reason)
    assert len(installer.calls) == 1
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert first.timing["install_ms"] > 0
    assert second.timing["install_ms"] == 0
    assert [tool["name"] for tool in second.tools] == ["search_notes", "create_note", "delete_note"]
    assert (first.server_name, second.server_name) == ("probe-fixture", "probe-fixture")


@needs_bwrap
def test_two_workers_installing_the_same_package_never_see_half_of_it(tmp_path, monkeypatch):
    installer = FakeInstaller(delay=0.5)
    monkeypatch.setattr(probe_runner, "install", installer)
    outcomes = []

    def worker():
        outcomes.append(probe(tmp_path, package()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == 2 and all(outcome.ok for outcome in outcomes), [o.reason for o in outcomes]
    cache = tmp_path / "cache"
    entries = [path.name for path in (cache / "entries").iterdir()]
    assert entries == [entry_key("pypi", "notes-server", "1.0.0")]
    assert list((cache / "building").iterdir()) == []  # the loser's build was dropped


@needs_bwrap
def test_the_cache_cap_evicts_the_least_recently_used_package(tmp_path, monkeypatch):
    installer = FakeInstaller(padding_bytes=1024 * 1024)
    monkeypatch.setattr(probe_runner, "install", installer)
    cap = 3 * 1024 * 1024  # two entries fit, three do not

    for name in ("first-server", "second-server"):
        assert probe(tmp_path, package(name), cache_cap_bytes=cap).ok
    time.sleep(0.05)
    assert probe(tmp_path, package("first-server"), cache_cap_bytes=cap).cache_hit  # first is now fresher
    assert probe(tmp_path, package("third-server"), cache_cap_bytes=cap).ok

    entries = {path.name for path in (tmp_path / "cache" / "entries").iterdir()}
    assert entries == {entry_key("pypi", name, "1.0.0") for name in ("first-server", "third-server")}
    again = probe(tmp_path, package("second-server"), cache_cap_bytes=cap)
    assert again.ok and not again.cache_hit
    assert len(installer.calls) == 4


def test_eviction_never_removes_an_entry_in_use_nor_the_one_kept(tmp_path):
    cache = PackageCache(tmp_path / "cache", cap_bytes=0)
    for index, key in enumerate(("in-use", "kept", "idle")):
        with cache.lease(key), cache.build(key) as build:
            (build / "payload").write_bytes(b"x" * 1000)
            cache.publish(key, build, {"bins": []})
        os.utime(cache.locks / f"{key}.lock", (1000 + index, 1000 + index))

    with cache.lease("in-use"):
        removed = cache.evict(keep="kept")

    assert removed == ["idle"]
    assert {path.name for path in cache.entries.iterdir()} == {"in-use", "kept"}
    assert cache.lookup("in-use")["size_bytes"] == 1000
    assert cache.evict(keep="kept") == ["in-use"]  # released: now it may go


# Targets: exact versions only, names that cannot be read as options.

@pytest.mark.parametrize(
    ("target", "field"),
    [
        (ProbeTarget(kind="pypi", identifier="mcp-server-time", version=">=2026.1"), "version"),
        (ProbeTarget(kind="pypi", identifier="mcp-server-time", version="2026.*"), "version"),
        (ProbeTarget(kind="pypi", identifier="mcp-server-time", version="latest"), "version"),
        (ProbeTarget(kind="pypi", identifier="mcp-server-time", version=""), "version"),
        (ProbeTarget(kind="pypi", identifier="mcp-server-time", version="1.0,<2"), "version"),
        (ProbeTarget(kind="npm", identifier="@modelcontextprotocol/server-everything", version="^2026.8.31"),
         "version"),
        (ProbeTarget(kind="npm", identifier="left-pad", version="1.x"), "version"),
        (ProbeTarget(kind="npm", identifier="left-pad", version="1.3"), "version"),
        (ProbeTarget(kind="npm", identifier="left-pad", version="latest"), "version"),
        (ProbeTarget(kind="pypi", identifier="--index-url=http://evil.example", version="1.0"), "identifier"),
        (ProbeTarget(kind="npm", identifier="../../etc", version="1.0.0"), "identifier"),
        (ProbeTarget(kind="pypi", identifier="a\x00b", version="1.0"), "identifier"),
        (ProbeTarget(kind="pypi", identifier="ok", version="1.0\ud800"), "version"),
        (ProbeTarget(kind="pypi", identifier="ok", version="1.0", bin="../python"), "bin"),
        (ProbeTarget(kind="docker", identifier="ok", version="1.0"), "kind"),
        (ProbeTarget(kind="remote", url="file:///etc/passwd"), "url"),
        (ProbeTarget(kind="local", identifier="relative/server.py"), "identifier"),
    ],
)
def test_a_target_that_is_not_one_exact_thing_is_refused_before_installing(tmp_path, monkeypatch, target,
                                                                          field):
    monkeypatch.setattr(probe_runner, "install", pytest.fail)
    with pytest.raises(InvalidTarget) as refused:
        validate_target(target)
    assert refused.value.field == field

    outcome = probe(tmp_path, target)
    assert not outcome.ok
    assert outcome.reason.startswith(f"{field}: ")


@pytest.mark.parametrize(
    "target",
    [
        ProbeTarget(kind="pypi", identifier="mcp-server-time", version="2026.10.19"),
        ProbeTarget(kind="pypi", identifier="Some_Package.x", version="1.0rc1.post2.dev3+local.7"),
        ProbeTarget(kind="npm", identifier="@modelcontextprotocol/server-everything", version="2026.8.31"),
        ProbeTarget(kind="npm", identifier="left-pad", version="1.3.0-beta.1+build.5", bin="left-pad"),
        ProbeTarget(kind="remote", url="https://mcp.example.com/mcp"),
    ],
)
def test_exact_targets_are_accepted(target):
    assert validate_target(target) is target


def test_bad_arguments_are_programming_errors(tmp_path):
    with pytest.raises(TypeError):
        run_probe(local("normal"), limits={"run_seconds": 1}, cache_dir=tmp_path)
    with pytest.raises(ValueError):
        ProbeLimits(run_seconds=0)
    with pytest.raises(ValueError):
        run_probe(local("normal"), cache_dir=tmp_path, cache_cap_bytes=-1)
    with pytest.raises(TypeError):
        validate_target("pypi mcp-server-time")


# The real registries: few and quick (no package is installed), skipped offline.

def reachable(host):
    if os.environ.get("WORKBENCH_TEST_OFFLINE"):
        return False
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return False
    return True


needs_pypi = pytest.mark.skipif(not reachable("pypi.org"), reason="PyPI is not reachable (offline)")
needs_npm = pytest.mark.skipif(not reachable("registry.npmjs.org"), reason="npm is not reachable (offline)")


@needs_bwrap
@needs_pypi
def test_pypi_unknown_version_and_unknown_package(tmp_path):
    version = probe(tmp_path, ProbeTarget(kind="pypi", identifier="mcp-server-time", version="1999.1.1"))
    assert not version.ok
    assert version.reason.startswith("PyPI package 'mcp-server-time' has no version 1999.1.1")
    assert "No matching distribution" in version.stderr_tail

    name = "workbench-probe-no-such-package-7f3c"
    missing = probe(tmp_path, ProbeTarget(kind="pypi", identifier=name, version="1.0.0"))
    assert not missing.ok
    assert missing.reason.startswith(f"PyPI has no package {name!r}")
    assert list((tmp_path / "cache" / "entries").iterdir()) == []  # nothing half-installed is kept


@needs_bwrap
@needs_npm
def test_npm_unknown_version_and_unknown_package(tmp_path):
    version = probe(tmp_path, ProbeTarget(kind="npm", identifier="@modelcontextprotocol/server-everything",
                                          version="0.0.1"))
    assert not version.ok
    assert version.reason == "npm package '@modelcontextprotocol/server-everything' has no version 0.0.1"
    assert "ETARGET" in version.stderr_tail

    missing = probe(tmp_path, ProbeTarget(kind="npm", identifier="workbench-probe-no-such-package-7f3c",
                                          version="1.0.0"))
    assert not missing.ok
    assert missing.reason == "npm has no package 'workbench-probe-no-such-package-7f3c'"


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


# Remote servers: streamable HTTP, public addresses only unless allowed.

@pytest.fixture
def remote_server():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(SERVERS / "remote.py"), str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the remote test server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_remote_server_is_read_over_streamable_http(tmp_path, remote_server):
    outcome = probe(tmp_path, ProbeTarget(kind="remote", url=remote_server), allow_private_urls=True)

    assert outcome.ok, outcome.reason
    assert (outcome.server_name, outcome.server_version) == ("probe-fixture", "1.2.3")
    assert [tool["name"] for tool in outcome.tools] == ["search_notes", "create_note", "delete_note"]
    assert outcome.stderr_tail == ""


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://localhost/mcp", "http://[::1]/",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.0.0.8/mcp"])
def test_a_remote_probe_refuses_private_addresses(tmp_path, url):
    outcome = probe(tmp_path, ProbeTarget(kind="remote", url=url))

    assert not outcome.ok
    assert "a private or reserved address; remote probes reach public servers only" in outcome.reason


def test_an_unreachable_remote_fails_with_a_reason(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nothing listens there once the socket closes

    outcome = probe(tmp_path, ProbeTarget(kind="remote", url=f"http://127.0.0.1:{port}/mcp"),
                    allow_private_urls=True, limits=ProbeLimits(run_seconds=10))

    assert not outcome.ok
    assert outcome.reason.startswith(f"cannot speak MCP with http://127.0.0.1:{port}/mcp: ")


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
