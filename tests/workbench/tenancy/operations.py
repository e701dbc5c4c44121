"""The API operations of the authorization matrix: for each (method, path) of the OpenAPI schema, which
model it touches, how (list, read, create, write), on which row of the world, with which body, and the
outcome the access table implies for a role."""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from workbench.selectors.coverage import COVERAGE_PERMISSIONS

from .expectations import ALLOWED, addressable, perm, reads, writes, writes_somewhere

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Op:
    label: str
    kind: str  # list, retrieve, create, update, destroy, read_action, write_action
    rows: tuple = ()  # row names of the world the path addresses (detail paths)
    action: str = ""  # the model permission: view, add, change, delete, invoke, publish...
    body: object = None  # dict, or callable(rows) -> dict; for create: {scope: body}
    headers: dict = field(default_factory=dict)
    expect: object = None  # callable(role, row_name) -> expected outcome, overriding the generic rule
    key: object = None  # list ops: callable(item) -> identifier, to find tenant A's row in a page


def grant_body(rows):
    return {
        "firearm": "firearm.external_write",
        "tenant": "tenant-a",
        "principal_type": "user",
        "user": "matrix-viewer_a",
        "reason": "matrix",
    }


def _draft_expect(action, *, create=False):
    """Drafts follow their services: the tenant's owners and editors write (never platform staff); a
    draft others cannot read is not found."""

    def expect(role, row_name):
        if not role.has(perm("workbench.workbenchdraft", action)):
            return 403
        if create:
            return ALLOWED if role.tenant_a in ("owner", "editor") else 403
        if not writes_somewhere(role, "workbench.workbenchdraft") and action in ("add", "change"):
            return 403
        if not reads(role, "workbench.workbenchdraft", "A"):
            return 404
        return ALLOWED if role.tenant_a in ("owner", "editor") else 403

    return expect


def _probe_read_expect(role, row_name):
    """Probes are read with the drafts' view permission (they have none of their own), by the tenant's
    members and auditors."""
    if not role.has("workbench.view_workbenchdraft"):
        return 403
    if row_name is None:
        return 200
    return 200 if reads(role, "workbench.probe", "A") else 404


def _approve_expect(role, row_name):
    # A second person approves: the grant's granter (owner_a) may not, whatever the table says.
    generic = _generic(OPS_BY_NAME["approve"], role, row_name)
    if generic == ALLOWED and role.name == "owner_a":
        return 403
    return generic


def _invoke_expect(role, row_name):
    return ALLOWED if role.has("registries.invoke_tooldefinition") else 403


SCOPE_OF = {
    "budget_all": "none",
    "budget_a": "A",
    "grant": "A",
    "critical_grant": "A",
    "receipt": "A",
    "usage": "A",
    "draft": "A",
    "probe": "A",
}


def _registry_reader(role):
    return 200 if role.has("registries.view_connector") else 403


def scope_of(row_name):
    return SCOPE_OF.get(row_name, "platform")


def _op(label, kind, *rows, **kwargs):
    return Op(label=label, kind=kind, rows=rows, **kwargs)


BUDGET = "policies.budgetpolicy"
OPERATIONS = {
    # policies
    ("get", "/api/v1/budgets/"): _op(BUDGET, "list", key=lambda item: item["budget_id"]),
    ("post", "/api/v1/budgets/"): _op(
        BUDGET,
        "create",
        body={
            "A": {"budget_id": "new-a", "tenant": "tenant-a", "limit": "5", "period": "day", "unit": "USD"},
            "none": {"budget_id": "new-all", "tenant": None, "limit": "5", "period": "day", "unit": "USD"},
        },
    ),
    ("get", "/api/v1/budgets/{budget_id}/"): _op(BUDGET, "retrieve", "budget_a", "budget_all"),
    ("put", "/api/v1/budgets/{budget_id}/"): _op(
        BUDGET,
        "update",
        "budget_a",
        "budget_all",
        body=lambda row: {
            "budget_id": row.budget_id,
            "tenant": row.tenant.slug if row.tenant_id else None,
            "limit": "7",
            "period": "day",
            "unit": "USD",
            "active": True,
        },
    ),
    ("patch", "/api/v1/budgets/{budget_id}/"): _op(
        BUDGET, "update", "budget_a", "budget_all", body={"limit": "8"}
    ),
    ("delete", "/api/v1/budgets/{budget_id}/"): _op(BUDGET, "destroy", "budget_a", "budget_all"),
    ("get", "/api/v1/usage-events/"): _op("policies.usageevent", "list", key=lambda item: item["uid"]),
    ("get", "/api/v1/usage-events/{uid}/"): _op("policies.usageevent", "retrieve", "usage"),
    ("get", "/api/v1/firearms/"): _op("policies.firearm", "list"),
    ("post", "/api/v1/firearms/"): _op(
        "policies.firearm", "create", body={"platform": {"firearm_id": "firearm.matrix_new", "name": "New"}}
    ),
    ("get", "/api/v1/firearms/{firearm_id}/"): _op("policies.firearm", "retrieve", "firearm"),
    ("put", "/api/v1/firearms/{firearm_id}/"): _op(
        "policies.firearm",
        "update",
        "firearm",
        body={
            "firearm_id": "firearm.external_write",
            "name": "External write",
            "severity": "high",
            "description": "",
        },
    ),
    ("patch", "/api/v1/firearms/{firearm_id}/"): _op(
        "policies.firearm", "update", "firearm", body={"name": "X"}
    ),
    ("delete", "/api/v1/firearms/{firearm_id}/"): _op("policies.firearm", "destroy", "firearm"),
    ("get", "/api/v1/firearm-bindings/"): _op("policies.firearmbinding", "list"),
    ("get", "/api/v1/firearm-bindings/{action_name}/"): _op("policies.firearmbinding", "retrieve", "binding"),
    ("get", "/api/v1/firearm-grants/"): _op("policies.firearmgrant", "list", key=lambda item: item["uid"]),
    ("post", "/api/v1/firearm-grants/"): _op("policies.firearmgrant", "create", body={"A": grant_body(None)}),
    ("get", "/api/v1/firearm-grants/{uid}/"): _op("policies.firearmgrant", "retrieve", "grant"),
    ("post", "/api/v1/firearm-grants/{uid}/revoke/"): _op(
        "policies.firearmgrant", "write_action", "grant", action="change", body={"reason": "matrix"}
    ),
    ("post", "/api/v1/firearm-grants/{uid}/approve/"): _op(
        "policies.firearmgrant",
        "write_action",
        "critical_grant",
        action="change",
        body={},
        expect=_approve_expect,
    ),
    ("get", "/api/v1/kpis/"): _op("policies.kpidefinition", "list"),
    ("post", "/api/v1/kpis/"): _op(
        "policies.kpidefinition",
        "create",
        body={"platform": {"kpi_id": "kpi.matrix_new", "name": "New", "unit": "%"}},
    ),
    ("get", "/api/v1/kpis/{kpi_id}/"): _op("policies.kpidefinition", "retrieve", "kpi"),
    ("put", "/api/v1/kpis/{kpi_id}/"): _op(
        "policies.kpidefinition",
        "update",
        "kpi",
        body={"kpi_id": "kpi.matrix", "name": "Matrix", "unit": "%"},
    ),
    ("patch", "/api/v1/kpis/{kpi_id}/"): _op("policies.kpidefinition", "update", "kpi", body={"name": "M"}),
    ("delete", "/api/v1/kpis/{kpi_id}/"): _op("policies.kpidefinition", "destroy", "kpi"),
    ("get", "/api/v1/kpi-corridors/"): _op("policies.kpicorridor", "list"),
    ("post", "/api/v1/kpi-corridors/"): _op(
        "policies.kpicorridor", "create", body={"platform": {"kpi": "kpi.matrix", "lower": "1"}}
    ),
    ("get", "/api/v1/kpi-corridors/{kpi_id}/"): _op("policies.kpicorridor", "retrieve", "corridor"),
    ("put", "/api/v1/kpi-corridors/{kpi_id}/"): _op(
        "policies.kpicorridor", "update", "corridor", body={"kpi": "kpi.matrix", "lower": "2"}
    ),
    ("patch", "/api/v1/kpi-corridors/{kpi_id}/"): _op(
        "policies.kpicorridor", "update", "corridor", body={"lower": "3"}
    ),
    ("delete", "/api/v1/kpi-corridors/{kpi_id}/"): _op("policies.kpicorridor", "destroy", "corridor"),
    ("get", "/api/v1/kpi-tool-bindings/"): _op("policies.kpitoolbinding", "list"),
    ("get", "/api/v1/kpi-tool-bindings/{id}/"): _op("policies.kpitoolbinding", "retrieve", "kpi_binding"),
    ("get", "/api/v1/strategy-locks/"): _op("policies.strategylock", "list"),
    ("post", "/api/v1/strategy-locks/"): _op(
        "policies.strategylock", "create", body={"platform": {"name": "matrix-new", "actions": []}}
    ),
    ("get", "/api/v1/strategy-locks/{name}/"): _op("policies.strategylock", "retrieve", "lock"),
    ("put", "/api/v1/strategy-locks/{name}/"): _op(
        "policies.strategylock",
        "update",
        "lock",
        body={
            "name": "matrix-lock",
            "description": "d",
            "actions": [],
            "connectors": [],
            "firearms": [],
        },
    ),
    ("patch", "/api/v1/strategy-locks/{name}/"): _op(
        "policies.strategylock", "update", "lock", body={"description": "e"}
    ),
    ("delete", "/api/v1/strategy-locks/{name}/"): _op("policies.strategylock", "destroy", "lock"),
    ("post", "/api/v1/strategy-locks/{name}/engage/"): _op(
        "policies.strategylock", "write_action", "lock", action="change", body={"reason": "matrix"}
    ),
    ("post", "/api/v1/strategy-locks/{name}/release/"): _op(
        "policies.strategylock", "write_action", "lock", action="change", body={"reason": "matrix"}
    ),
    # registries
    ("get", "/api/v1/connectors/"): _op("registries.connector", "list"),
    ("get", "/api/v1/connectors/{connector_id}/"): _op("registries.connector", "retrieve", "connector"),
    ("get", "/api/v1/connectors/{connector_id}/versions/"): _op(
        "registries.connector", "retrieve", "connector"
    ),
    ("post", "/api/v1/connectors/{connector_id}/transfer/"): _op(
        "registries.connector",
        "write_action",
        "connector",
        action="change",
        body={"tenant": "tenant-b", "reason": "matrix"},
        expect=lambda role, row: (
            403 if not role.has("registries.change_connector") else (ALLOWED if role.platform_staff else 403)
        ),
    ),
    ("get", "/api/v1/specs/"): _op("registries.componentspec", "list"),
    ("get", "/api/v1/specs/{id}/"): _op("registries.componentspec", "retrieve", "spec"),
    ("post", "/api/v1/specs/{id}/deprecate/"): _op(
        "registries.componentspec", "write_action", "spec", action="change", body={"message": "Use X."}
    ),
    ("get", "/api/v1/scopes/"): _op("registries.scope", "list"),
    ("get", "/api/v1/scopes/{id}/"): _op("registries.scope", "retrieve", "scope"),
    ("get", "/api/v1/routing/"): _op("registries.routingconfig", "list"),
    ("post", "/api/v1/routing/"): _op(
        "registries.routingconfig",
        "create",
        body={
            "platform": {"resource_kind": "matrix_new", "backend_type": "TabularStore", "options": {}},
        },
    ),
    ("get", "/api/v1/routing/{resource_kind}/"): _op("registries.routingconfig", "retrieve", "routing"),
    ("put", "/api/v1/routing/{resource_kind}/"): _op(
        "registries.routingconfig",
        "update",
        "routing",
        body={
            "resource_kind": "matrix_kind",
            "backend_type": "TabularStore",
            "options": {},
            "description": "d",
        },
    ),
    ("patch", "/api/v1/routing/{resource_kind}/"): _op(
        "registries.routingconfig", "update", "routing", body={"description": "e"}
    ),
    ("delete", "/api/v1/routing/{resource_kind}/"): _op("registries.routingconfig", "destroy", "routing"),
    ("get", "/api/v1/engine-routes/"): _op("registries.engineroute", "list"),
    ("post", "/api/v1/engine-routes/"): _op(
        "registries.engineroute", "create", body={"platform": {"pattern": "/matrix-new/*"}}
    ),
    ("get", "/api/v1/engine-routes/{id}/"): _op("registries.engineroute", "retrieve", "route"),
    ("put", "/api/v1/engine-routes/{id}/"): _op(
        "registries.engineroute", "update", "route", body={"pattern": "/matrix/*", "connector": None}
    ),
    ("patch", "/api/v1/engine-routes/{id}/"): _op(
        "registries.engineroute", "update", "route", body={"description": "d"}
    ),
    ("delete", "/api/v1/engine-routes/{id}/"): _op("registries.engineroute", "destroy", "route"),
    ("get", "/api/v1/tools/"): _op("registries.tooldefinition", "list"),
    # Tools change only by importing tools.registry.json: their writes answer 405 (test_tool_api).
    ("get", "/api/v1/tools/{name}/"): _op("registries.tooldefinition", "retrieve", "tool"),
    ("post", "/api/v1/tools/{name}/invoke/"): _op(
        "registries.tooldefinition",
        "write_action",
        "tool",
        action="invoke",
        body={"call_id": "matrix-call", "input": {}},
        expect=_invoke_expect,
    ),
    ("get", "/api/v1/receipts/"): _op("registries.toolreceipt", "list", key=lambda item: item["uid"]),
    ("get", "/api/v1/receipts/{uid}/"): _op("registries.toolreceipt", "retrieve", "receipt"),
    # workbench
    ("get", "/api/v1/drafts/"): _op("workbench.workbenchdraft", "list", key=lambda item: item["id"]),
    ("post", "/api/v1/drafts/"): _op(
        "workbench.workbenchdraft",
        "create",
        body={"A": {"tenant": "tenant-a", "connector_id": "matrix-conn"}},
        expect=_draft_expect("add", create=True),
    ),
    ("get", "/api/v1/drafts/{id}/"): _op("workbench.workbenchdraft", "retrieve", "draft"),
    ("put", "/api/v1/drafts/{id}/"): _op(
        "workbench.workbenchdraft",
        "update",
        "draft",
        body={"stage": "policy"},
        headers={"HTTP_IF_MATCH": '"1"'},
        expect=_draft_expect("change"),
    ),
    ("patch", "/api/v1/drafts/{id}/"): _op(
        "workbench.workbenchdraft",
        "update",
        "draft",
        body={"stage": "policy"},
        headers={"HTTP_IF_MATCH": '"1"'},
        expect=_draft_expect("change"),
    ),
    ("get", "/api/v1/drafts/{id}/history/"): _op("workbench.workbenchdraft", "retrieve", "draft"),
    ("get", "/api/v1/drafts/{id}/diff/"): _op("workbench.workbenchdraft", "retrieve", "draft"),
    ("post", "/api/v1/drafts/{id}/validate/"): _op(
        "workbench.workbenchdraft",
        "write_action",
        "draft",
        action="change",
        body={},
        expect=_draft_expect("change"),
    ),
    ("post", "/api/v1/drafts/{id}/publish/"): _op(
        "workbench.workbenchdraft",
        "write_action",
        "draft",
        action="publish",
        body={},
        expect=_draft_expect("publish"),
    ),
    ("post", "/api/v1/drafts/{id}/restore/"): _op(
        "workbench.workbenchdraft",
        "write_action",
        "draft",
        action="change",
        body={"revision": 1},
        headers={"HTTP_IF_MATCH": '"1"'},
        expect=_draft_expect("change"),
    ),
    ("post", "/api/v1/drafts/import-mcp/"): _op(
        "workbench.workbenchdraft",
        "create",
        body={
            "A": {
                "tenant": "tenant-a",
                "connector_id": "matrix-import",
                "tools_list": {"tools": [{"name": "read_things", "inputSchema": {"type": "object"}}]},
            }
        },
        expect=_draft_expect("add", create=True),
    ),
    ("post", "/api/v1/drafts/import-server-json/"): _op(
        "workbench.workbenchdraft",
        "create",
        body={
            "A": {
                "tenant": "tenant-a",
                "server": {
                    "name": "io.github.acme/matrix-server",
                    "description": "A server listed in an MCP registry",
                    "version": "1.0.0",
                },
            }
        },
        expect=_draft_expect("add", create=True),
    ),
    # Sandbox probes: starting one is creating (import) or changing (check) a draft; reading one takes
    # the drafts' view permission.
    ("post", "/api/v1/drafts/import-package/"): _op(
        "workbench.workbenchdraft",
        "create",
        body={
            "A": {
                "tenant": "tenant-a",
                "connector_id": "matrix-package",
                "registry_type": "pypi",
                "identifier": "matrix-server",
                "version": "1.0.0",
            }
        },
        expect=_draft_expect("add", create=True),
    ),
    ("post", "/api/v1/drafts/{id}/probe/"): _op(
        "workbench.workbenchdraft",
        "write_action",
        "draft",
        action="change",
        body={},
        expect=_draft_expect("change"),
    ),
    ("get", "/api/v1/probes/"): _op(
        "workbench.probe", "list", key=lambda item: item["id"], expect=_probe_read_expect
    ),
    ("get", "/api/v1/probes/{id}/"): _op("workbench.probe", "retrieve", "probe", expect=_probe_read_expect),
    # The MCP registry (/v0): a token of anyone holding the connectors' view permission reads every
    # published version (the setting WORKBENCH_REGISTRY_PUBLIC, off here, opens it to anyone).
    ("get", "/v0/servers"): _op("registries.connector", "list"),
    ("get", "/v0/servers/{serverName}/versions"): _op(
        "registries.connector", "retrieve", "server", expect=lambda role, row: _registry_reader(role)
    ),
    ("get", "/v0/servers/{serverName}/versions/{version}"): _op(
        "registries.connector", "retrieve", "server", expect=lambda role, row: _registry_reader(role)
    ),
    ("get", "/api/v1/exports/connectors.tsv"): _op("registries.connector", "list"),
    ("get", "/api/v1/exports/policy-matrix.tsv"): _op("registries.scope", "list"),
    ("get", "/api/v1/exports/coverage.tsv"): _op("registries.engineroute", "list"),
    ("get", "/api/v1/exports/security-events.tsv"): _op("workbench.securityevent", "list"),
    # The coverage report as JSON: the coverage export's permissions (routes, scopes, firearm bindings).
    ("get", "/api/v1/coverage/"): _op(
        "registries.engineroute",
        "list",
        expect=lambda role, row_name: ALLOWED if all(map(role.has, COVERAGE_PERMISSIONS)) else 403,
    ),
}
OPS_BY_NAME = {"approve": OPERATIONS[("post", "/api/v1/firearm-grants/{uid}/approve/")]}

LIST_ROW = {
    "policies.budgetpolicy": "budget_a",
    "policies.usageevent": "usage",
    "policies.firearmgrant": "grant",
    "registries.toolreceipt": "receipt",
    "workbench.workbenchdraft": "draft",
    "workbench.probe": "probe",
}
ROW_ID = {
    "budget_a": lambda row: row.budget_id,
    "usage": lambda row: str(row.uid),
    "grant": lambda row: str(row.uid),
    "receipt": lambda row: str(row.uid),
    "draft": lambda row: row.pk,
    "probe": lambda row: row.pk,
}


def _generic(op, role, row_name):
    """The outcome the table implies for `op`, the generic way: model permission (403), then the
    table's model-level write check (403), then whether the row may be addressed (404), then written."""
    scope = scope_of(row_name) if op.kind != "create" else row_name
    action = op.action or {
        "list": "view",
        "retrieve": "view",
        "create": "add",
        "update": "change",
        "destroy": "delete",
    }.get(op.kind, "change")
    if not role.has(perm(op.label, action)):
        return 403
    if op.kind in ("list", "retrieve", "read_action"):
        if op.kind == "list":
            return 200
        return 200 if addressable(role, op.label, scope) else 404
    if not writes_somewhere(role, op.label):
        return 403
    if op.kind == "create":
        return ALLOWED if writes(role, op.label, scope) else 403
    if not addressable(role, op.label, scope):
        return 404
    return ALLOWED if writes(role, op.label, scope) else 403


def expected(op, role, row_name):
    if not role.signed_in:
        return 401
    if op.expect is not None:
        return op.expect(role, row_name)
    return _generic(op, role, row_name)


def _url(path, rows, row_name):
    if row_name is None or "{" not in path:
        return path
    row = rows["connector" if row_name == "server" else row_name]
    value = {
        "budget_a": "budget_id",
        "budget_all": "budget_id",
        "firearm": "firearm_id",
        "binding": "action_name",
        "grant": "uid",
        "critical_grant": "uid",
        "kpi": "kpi_id",
        "lock": "name",
        "connector": "connector_id",
        "routing": "resource_kind",
        "tool": "name",
        "receipt": "uid",
        "usage": "uid",
    }.get(row_name, "pk")
    if row_name == "corridor":
        return re.sub(r"\{[^}]+\}", row.kpi.kpi_id, path)
    if row_name == "server":  # the MCP registry's name of the connector (its '/' encoded) and its latest
        name = quote(f"io.workbench.local/{row.connector_id}", safe="")
        return path.replace("{serverName}", name).replace("{version}", "latest")
    return re.sub(r"\{[^}]+\}", str(getattr(row, value)), path)
