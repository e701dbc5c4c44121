"""Tries to reach the outside world at start, writes what happened to stderr, then serves no tools.

A sandbox without network makes the connection fail; the test reads the error from the stderr tail."""

import socket
import sys

import anyio
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

for host, port in (("1.1.1.1", 53), ("127.0.0.1", 5432)):
    try:
        socket.create_connection((host, port), timeout=2).close()
        sys.stderr.write(f"network: connected to {host}:{port}\n")
    except OSError as error:
        sys.stderr.write(f"network: cannot connect to {host}:{port}: {error}\n")
sys.stderr.flush()

server = Server("probe-network", version="0.0.1")


async def main():
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
