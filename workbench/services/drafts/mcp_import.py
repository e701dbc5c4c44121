"""Import from an MCP server: the result of its `tools/list` becomes a draft with the tools and scopes
proposed from their annotations. Firearm decisions are left for a person (validation lists each one)."""


from workbench.contract import is_destructive, is_read_only, packaging_problems, tool_findings
from workbench.kit import jsontext
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft

from .revisions import draft_create

PROPOSED_SCOPES = (
    ("read_only", "Tools the server marks read-only (readOnlyHint).", lambda tool: is_read_only(tool)),
    (
        "write",
        "Tools that change things but say they are not destructive (destructiveHint: false).",
        lambda tool: not is_read_only(tool) and not is_destructive(tool),
    ),
    (
        "destructive",
        "Tools that may destroy data (destructiveHint true or absent on a tool not marked read-only).",
        lambda tool: is_destructive(tool),
    ),
)


def parse_tools_list(payload):
    """The tools of a tools/list result, given as JSON text or parsed: {"tools": [...]}, a JSON-RPC
    response {"result": {"tools": [...]}}, a list of such pages (cursor pagination), or a bare list."""
    if isinstance(payload, bytes | str):
        try:
            payload = jsontext.loads(payload, what="The tools/list result")
        except Refusal as refusal:
            raise Refusal.fields(
                {"tools_list": "; ".join(f"{e['field']}: {e['message']}" for e in refusal.errors)}
            ) from None
    pages = (
        payload
        if isinstance(payload, list)
        and all(isinstance(p, dict) and ("tools" in p or "result" in p) for p in payload)
        and payload
        else [payload]
    )
    tools = []
    for page in pages:
        if isinstance(page, dict) and isinstance(page.get("result"), dict):
            page = page["result"]
        if isinstance(page, dict) and isinstance(page.get("tools"), list):
            tools.extend(page["tools"])
        elif isinstance(page, list):
            tools.extend(page)
        else:
            raise Refusal.fields(
                {"tools_list": "Expected a tools/list result: an object with a 'tools' list."}
            )
    if not tools:
        raise Refusal.fields({"tools_list": "The tools/list result has no tools."})
    return tools


def check_tools(tools):
    """Every tool must be an MCP Tool with a valid JSON Schema inputSchema; one error per problem."""
    errors = {}
    names = set()
    for index, tool in enumerate(tools):
        for item in tool_findings(tool, f"tools[{index}]"):
            errors.setdefault(item["path"], []).append(item["message"])
        name = tool.get("name") if isinstance(tool, dict) else None
        if name in names:
            errors.setdefault(f"tools[{index}].name", []).append(f"Tool {name!r} is listed twice.")
        names.add(name)
    if errors:
        raise Refusal.fields(errors)


def propose_scopes(tools):
    """Scopes read_only / write / destructive from the tools' annotations (empty ones are left out)."""
    scopes = []
    for name, description, belongs in PROPOSED_SCOPES:
        members = [tool["name"] for tool in tools if belongs(tool)]
        if members:
            scopes.append({"name": name, "description": description, "tools": members})
    return scopes


def draft_import_mcp(
    *,
    tenant,
    user,
    connector_id,
    tools_list,
    name="",
    version="1.0.0",
    description="",
    packaging=None,
    reason="imported from an MCP server's tools/list",
):
    """Create a draft from a tools/list result (stage `scoping`, no firearm decisions yet), with the
    package it runs from when `packaging` is given (checked by the contract's packaging rule)."""
    tools = parse_tools_list(tools_list)
    check_tools(tools)
    if packaging not in (None, {}):
        problems = packaging_problems(packaging)
        if problems:
            raise Refusal.fields(problems)
    spec = {
        "id": connector_id,
        "name": name or connector_id,
        "version": version,
        "description": description,
        "tools": tools,
        "scopes": propose_scopes(tools),
        "packaging": packaging or {},
        "portability": {},
    }
    return draft_create(
        tenant=tenant,
        user=user,
        connector_id=connector_id,
        spec_snapshot=spec,
        policy_snapshot={"firearms": {}, "kpis": {}},
        stage=WorkbenchDraft.Stage.SCOPING,
        reason=reason,
    )
