"""Probe one server by hand, without Django or a database: prints what it serves.

    python -m workbench.probing pypi mcp-server-time 2026.10.19
    python -m workbench.probing npm @modelcontextprotocol/server-everything 2026.8.31 --json
    python -m workbench.probing remote https://example.com/mcp
    python -m workbench.probing local /abs/path/server.py
"""

import argparse
import json
import os
import sys
from dataclasses import asdict

from .runner import DEFAULT_CACHE_CAP, run_probe
from .target import ProbeLimits, ProbeTarget


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m workbench.probing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["pypi", "npm", "remote", "local"])
    parser.add_argument("identifier", help="package name, URL (remote) or script path (local)")
    parser.add_argument("version", nargs="?", default="", help="exact version (pypi, npm)")
    parser.add_argument("--bin", default="", help="the executable to start, when the package has several")
    parser.add_argument("--cache-dir", default=os.environ.get("WORKBENCH_PROBE_CACHE_DIR", ".probe-cache"))
    parser.add_argument("--run-seconds", type=float, default=ProbeLimits.run_seconds)
    parser.add_argument("--install-seconds", type=float, default=ProbeLimits.install_seconds)
    parser.add_argument("--memory-mb", type=int, default=ProbeLimits.memory_mb)
    parser.add_argument("--allow-unisolated", action="store_true", help="local development only")
    parser.add_argument("--json", action="store_true", help="print the whole outcome as JSON")
    args = parser.parse_args(argv)

    remote = args.kind == "remote"
    target = ProbeTarget(kind=args.kind, identifier="" if remote else args.identifier,
                         url=args.identifier if remote else "", version=args.version, bin=args.bin)
    limits = ProbeLimits(install_seconds=args.install_seconds, run_seconds=args.run_seconds,
                         memory_mb=args.memory_mb)
    outcome = run_probe(target, limits=limits, cache_dir=args.cache_dir, cache_cap_bytes=DEFAULT_CACHE_CAP,
                        allow_unisolated=args.allow_unisolated)
    if args.json:
        print(json.dumps(asdict(outcome), indent=2))
    elif outcome.ok:
        print(f"ok: {outcome.server_name} {outcome.server_version} (protocol {outcome.protocol_version}), "
              f"{len(outcome.tools)} tools, isolated: {outcome.isolated}, cached: {outcome.cache_hit}")
        for tool in outcome.tools:
            hints = ", ".join(f"{key}={value}" for key, value in (tool.get("annotations") or {}).items()
                              if key.endswith("Hint"))
            print(f"  {tool['name']}" + (f"  [{hints}]" if hints else ""))
        print("timing (ms): " + ", ".join(f"{key} {value:g}" for key, value in outcome.timing.items()))
    else:
        print(f"failed: {outcome.reason}")
        if outcome.stderr_tail:
            print("stderr tail:\n" + outcome.stderr_tail.rstrip())
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
