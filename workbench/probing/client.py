"""Speaking MCP to the server with the official SDK: initialize, then every tools/list page, timed."""

import json
import time

import anyio
import mcp.types as types
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

CLIENT_INFO = types.Implementation(name="connector-workbench-probe", version="1")
#: What a probe reads of a server's tools, at most: a server serving more is refused rather than stored
#: in part (the probe's row, the comparison and the draft it creates all hold every tool).
MAX_TOOLS = 2000
MAX_TOOLS_BYTES = 4 * 1024 * 1024


class ExchangeFailed(Exception):
    """The server answered, but not with something a probe can use (a cursor loop, endless pages)."""


class Exchange:
    """What one conversation got, filled in as it goes, so a failure still tells how far it came."""

    def __init__(self):
        self.phase = "start"
        self.timing = {}
        self.server_name = self.server_version = self.protocol_version = ""
        self.tools = []


async def talk(transport, exchange, *, max_pages):
    """Run initialize and tools/list (every page) over `transport` (an SDK transport context manager),
    recording into `exchange`. Raises what the transport or session raise; the caller sets the deadline."""
    started = time.perf_counter()
    async with transport as (read_stream, write_stream):
        exchange.timing["start_ms"] = _ms_since(started)
        async with ClientSession(read_stream, write_stream, client_info=CLIENT_INFO) as session:
            exchange.phase = "initialize"
            started = time.perf_counter()
            result = await session.initialize()
            exchange.timing["initialize_ms"] = _ms_since(started)
            exchange.server_name = result.server_info.name or ""
            exchange.server_version = result.server_info.version or ""
            exchange.protocol_version = result.protocol_version or ""
            exchange.phase = "tools/list"
            started = time.perf_counter()
            # A server without the tools capability serves no tools; asking would be a protocol error.
            if result.capabilities.tools is not None:
                exchange.tools = await _all_tools(session, max_pages)
            exchange.timing["tools_list_ms"] = _ms_since(started)
            exchange.phase = "shutdown"


async def _all_tools(session, max_pages):
    tools, cursor, seen, size = [], None, set(), 0
    for _ in range(max_pages):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor is not None else None
        page = await session.list_tools(params=params)
        for tool in page.tools:
            dumped = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
            size += len(json.dumps(dumped, ensure_ascii=False).encode())
            tools.append(dumped)
            if len(tools) > MAX_TOOLS:
                raise ExchangeFailed(f"the server served more than {MAX_TOOLS} tools")
            if size > MAX_TOOLS_BYTES:
                raise ExchangeFailed(f"the server served more than {MAX_TOOLS_BYTES // (1024 * 1024)} MB of "
                                     "tools (as JSON)")
        cursor = page.next_cursor
        if cursor is None:
            return tools
        if cursor in seen:
            raise ExchangeFailed(f"the server's tools/list pages loop (cursor {cursor[:40]!r} came back)")
        seen.add(cursor)
    raise ExchangeFailed(f"the server's tools/list did not end within {max_pages} pages")


def stdio_transport(launch, errlog):
    return stdio_client(StdioServerParameters(command=launch.command, args=launch.args), errlog=errlog)


def remote_transport(url):
    return streamable_http_client(url)


def run_exchange(transport_factory, *, seconds, max_pages):
    """Run `talk` within `seconds`; returns (exchange, error) where error is None, TimeoutError or the
    exception that ended the conversation."""
    exchange = Exchange()

    async def main():
        with anyio.fail_after(seconds):
            await talk(transport_factory(), exchange, max_pages=max_pages)

    try:
        anyio.run(main)
    except Exception as error:  # the server's failure, whatever layer of the SDK reports it
        return exchange, _innermost(error)
    return exchange, None


def _innermost(error):
    """The first real error inside the task groups' exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _ms_since(started):
    return round((time.perf_counter() - started) * 1000, 1)
