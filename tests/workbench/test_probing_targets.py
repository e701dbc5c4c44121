"""What the probe runner is asked to run: exact versions and safe names only, remote servers on public
addresses only, and the real registries' answers for what does not exist (skipped offline)."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.workbench.probing_kit import SERVERS, local, needs_bwrap, probe
from workbench.probing import InvalidTarget, ProbeLimits, ProbeTarget, run_probe, validate_target
from workbench.probing import runner as probe_runner

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
    assert outcome.isolated is False  # a remote runs elsewhere: nothing of it is sandboxed here


@pytest.mark.parametrize("url", ["http://127.0.0.1:5432/", "http://localhost/mcp", "http://[::1]/",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.0.0.8/mcp"])
def test_a_remote_probe_refuses_private_addresses(tmp_path, url):
    outcome = probe(tmp_path, ProbeTarget(kind="remote", url=url))

    assert not outcome.ok
    assert "a private or reserved address; remote probes reach public servers only" in outcome.reason
    assert outcome.isolated is False


def test_an_unreachable_remote_fails_with_a_reason(tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nothing listens there once the socket closes

    outcome = probe(tmp_path, ProbeTarget(kind="remote", url=f"http://127.0.0.1:{port}/mcp"),
                    allow_private_urls=True, limits=ProbeLimits(run_seconds=10))

    assert not outcome.ok
    assert outcome.reason.startswith(f"cannot speak MCP with http://127.0.0.1:{port}/mcp: ")
