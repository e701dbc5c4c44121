"""A well-behaved stdio server: three tools with schemas and annotations, served on two tools/list pages
(the low-level server returns nextCursor, so a client that reads one page only misses `delete_note`)."""

import anyio
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

NAME = "probe-fixture"
VERSION = "1.2.3"

TOOLS = [
    types.Tool(
        name="search_notes",
        title="Search notes",
        description="Find notes by text.",
        input_schema={
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
            "required": ["query"],
        },
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
    ),
    types.Tool(
        name="create_note",
        description="Create a note.",
        input_schema={
            "type": "object",
            "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
            "required": ["title"],
        },
        annotations=types.ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False
        ),
    ),
    types.Tool(
        name="delete_note",
        description="Delete a note for good.",
        input_schema={"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        annotations=types.ToolAnnotations(destructive_hint=True, idempotent_hint=True),
    ),
]
PAGES = {None: (TOOLS[:2], "page-2"), "page-2": (TOOLS[2:], None)}


async def list_tools(ctx, params):
    cursor = params.cursor if params else None
    if cursor not in PAGES:
        raise ValueError(f"unknown cursor {cursor!r}")
    tools, next_cursor = PAGES[cursor]
    return types.ListToolsResult(tools=tools, next_cursor=next_cursor)


server = Server(NAME, version=VERSION, on_list_tools=list_tools)


async def main():
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
