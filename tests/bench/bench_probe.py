"""The sandbox probe vs. a bare initialize + tools/list of the same server, both in one run.

Subject: `run_probe` (workbench.probing) of the normal test server (three tools on two tools/list pages):
the isolation check (bwrap running `true`), the shell that sets the memory limit, bubblewrap, the SDK
client's initialize and every tools/list page, the server stopped, the outcome built. Two cases: the
server as a local script, and the same server as a cached PyPI package (a venv in the probe cache, found
there: no install is timed). Baseline: the SDK client starting the same script directly (no bubblewrap,
no limits, no isolation check) and doing initialize and every tools/list page. Turns are interleaved.
"""

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

from tests.bench.bench_import_tsv import interleaved_best
from workbench.probing import ProbeTarget, run_probe, sandbox
from workbench.probing.cache import PackageCache, entry_key

REPEAT = 7
SERVER = Path(__file__).resolve().parents[1] / "workbench" / "probe_servers" / "normal.py"
PACKAGE = ProbeTarget(kind="pypi", identifier="probe-fixture", version="1.2.3")


def bare(command, args):
    """initialize and every tools/list page with the SDK, the server started directly."""

    async def main():
        params = StdioServerParameters(command=command, args=args)
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                cursor, names = None, []
                while True:
                    paging = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                    page = await session.list_tools(params=paging)
                    names += [tool.name for tool in page.tools]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
        if len(names) != 3:
            raise SystemExit(f"bare client read {names}")

    return lambda: anyio.run(main)


def probed(target, cache_dir):
    def probe():
        outcome = run_probe(target, cache_dir=cache_dir)
        if not outcome.ok or len(outcome.tools) != 3:
            raise SystemExit(f"probe failed: {outcome.reason}\n{outcome.stderr_tail}")

    return probe


def cache_the_package(cache_dir):
    """Put the server in the cache as an installed PyPI package would be: a venv with a console script
    (the project's site-packages on its path, for the SDK)."""
    cache = PackageCache(cache_dir, cap_bytes=2 * 1024**3)
    key = entry_key(PACKAGE.kind, PACKAGE.identifier, PACKAGE.version)
    with cache.lease(key), cache.build(key) as build:
        venv = build / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python*/site-packages"))
        (site / "project.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        (venv / "bin" / PACKAGE.identifier).write_text(SERVER.read_text())
        cache.publish(key, build, {"kind": "pypi", "bins": [PACKAGE.identifier]})
    venv_bin = cache.entries / key / "venv" / "bin"
    return str(venv_bin / "python"), [str(venv_bin / PACKAGE.identifier)]


def run(*, rows):
    problem = sandbox.check_isolation("bwrap", sandbox.interpreter_paths())
    if problem:
        print(f"probe bench skipped: {problem}")
        return []
    with tempfile.TemporaryDirectory(prefix="workbench-bench-probe-") as cache_dir:
        local = ProbeTarget(kind="local", identifier=str(SERVER))
        python, script = cache_the_package(cache_dir)
        base_local, subject_local, base_package, subject_package = interleaved_best(
            [
                bare(sys.executable, [str(SERVER)]),
                probed(local, cache_dir),
                bare(python, script),
                probed(PACKAGE, cache_dir),
            ],
            REPEAT,
        )
    return [
        ("probe local server (3 tools, 2 pages)", base_local, subject_local),
        ("probe cached pypi package (same server)", base_package, subject_package),
    ]
