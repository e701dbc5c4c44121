"""Reports on stderr what it can see and do where it runs (environment, files, writes), as one JSON line
after `inspect: `, then serves no tools."""

import json
import os
import sys
from pathlib import Path

import anyio
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server


def can_write(directory):
    try:
        (Path(directory) / f"probe-write-{os.getpid()}").write_text("x")
    except OSError:
        return False
    return True


report = {
    "env": sorted(os.environ),
    "home": os.environ.get("HOME"),
    "sees_project_readme": (Path(__file__).resolve().parents[3] / "README.md").exists(),
    "can_write_own_dir": can_write(Path(__file__).parent),
    "can_write_tmp": can_write(os.environ.get("TMPDIR", "/tmp")),
}
sys.stderr.write("inspect: " + json.dumps(report) + "\n")
sys.stderr.flush()

server = Server("probe-inspecting", version="0.0.1")


async def main():
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
