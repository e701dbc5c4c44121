"""Shared by the server.json import tests: server.json documents as MCP registries list them, a tools/list
result, a writer of a tenant, and the check that nothing was written."""

from tests.workbench.factories import MembershipFactory, UserFactory, draft_tool
from workbench.models import Membership, WorkbenchDraft

URL = "/api/v1/drafts/import-server-json/"
DRAFT_PERMS = [
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
]
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"

# As the official registry lists them: a stdio server published on npm, and a hosted one with no package.
NPM_SERVER = {
    "$schema": SCHEMA,
    "name": "io.github.acme/weather",
    "title": "Weather",
    "description": "MCP server providing weather data and forecasts via OpenWeatherMap API",
    "version": "1.4.0",
    "repository": {
        "url": "https://github.com/acme/weather-mcp",
        "source": "github",
        "id": "b94b5f7e-c7c6-d760-2c78-a5e9b8a5b8c9",
        "subfolder": "servers/weather",
    },
    "websiteUrl": "https://weather.acme.example/docs",
    "packages": [
        {
            "registryType": "npm",
            "registryBaseUrl": "https://registry.npmjs.org",
            "identifier": "@acme/weather-mcp",
            "version": "1.4.0",
            "runtimeHint": "npx",
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "OPENWEATHER_API_KEY", "isRequired": True, "isSecret": True,
                 "description": "Your OpenWeatherMap API key"}
            ],
        },
        {
            "registryType": "oci",
            "identifier": "ghcr.io/acme/weather-mcp:1.4.0",
            "transport": {"type": "stdio"},
        },
    ],
    # A document never sets policy: whatever it claims here is ignored.
    "_meta": {
        "io.workbench/policy": {"scopes": [{"name": "read_only", "firearm": "firearm.none"}]},
        "io.modelcontextprotocol.registry/publisher-provided": {"tool": "publisher-cli"},
    },
}
REMOTE_SERVER = {
    "$schema": SCHEMA,
    "name": "com.example.mcp/Ticket_Desk",
    "description": "Tickets of the example help desk over streamable HTTP",
    "version": "2.0.1",
    "remotes": [
        {
            "type": "streamable-http",
            "url": "https://mcp.example.com/tickets/mcp",
            "headers": [{"name": "Authorization", "isRequired": True, "isSecret": True}],
        },
        {"type": "sse", "url": "https://mcp.example.com/tickets/sse"},
    ],
}


def tools_list():
    return {
        "tools": [
            draft_tool("get_forecast", read_only=True),
            draft_tool("set_alert", destructive=False),
            draft_tool("delete_alerts", destructive=True),
        ]
    }


def member(tenant=None, role=Membership.Role.EDITOR, perms=DRAFT_PERMS):
    user = UserFactory(perms=perms)
    MembershipFactory(user=user, role=role, **({"tenant": tenant} if tenant else {}))
    return user


def nothing_written():
    return not WorkbenchDraft.objects.exists() and not WorkbenchDraft.history.exists()
