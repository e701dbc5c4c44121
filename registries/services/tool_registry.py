"""tools.registry.json in and out, whole, and the coverage report generated from the registry.

An import is all or nothing: every tool is validated first (the registry schema file, the tools' own
JSON Schemas against their metaschemas, the permission vocabulary); one bad tool and nothing is written,
with each error naming the tool and the JSON path. The file is the registry: tools it does not list are
removed (their history rows keep them). Export writes the same JSON content back, in file order, with the
version of the latest import.
"""

import json
from dataclasses import dataclass, field

from django.db import transaction

from registries.models import ToolDefinition, ToolPermission, ToolRegistryImport
from registries.schemas import registry_errors, tool_label
from registries.services.gateway.dispatch import resolve_handler
from workbench.kit import jsontext
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import history_reason, row_delete, row_save
from workbench.kit.uploads import check_size
from workbench.tenancy.access import check_platform_write

DEFAULT_VERSION = "1.0.0"


@dataclass
class RegistryPlan:
    """What an import would do (or did): per tool name, and every problem found."""

    version: str = ""
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # "tool 'x': $.tools[3].path: message"

    @property
    def ok(self):
        return not self.errors

    def summary(self):
        return (
            f"version {self.version}: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed"
        )


class RegistryImportError(Refusal):
    """400 `invalid_registry`: the file was refused, nothing written; `plan.errors` lists every
    problem, each naming the tool and JSON path (and so does `errors`, one entry each)."""

    def __init__(self, plan):
        self.plan = plan
        super().__init__(
            400,
            "invalid_registry",
            f"The tool registry file was refused ({len(plan.errors)} problem(s)); nothing was written.",
            errors=[field_error(None, "invalid_registry", problem) for problem in plan.errors],
        )


def parse_registry(content):
    """JSON text or bytes -> document; a RegistryImportError if it is not JSON the system can take
    (NUL, lone surrogates and nesting past the depth limit are refused with their JSON path)."""
    check_size(len(content), "The registry file")
    try:
        return jsontext.loads(content, what="The registry file")
    except Refusal as refusal:
        problems = [f"registry: {error['field']}: {error['message']}" for error in refusal.errors]
        raise RegistryImportError(RegistryPlan(errors=problems)) from None


def registry_plan(document):
    """Validate a registry document and compare it with the stored registry; writes nothing."""
    vocabulary = set(ToolPermission.objects.values_list("name", flat=True))
    plan = RegistryPlan(version=document.get("version", "") if isinstance(document, dict) else "")
    plan.errors = [
        f"{tool_label(document, finding.path)}: {finding}"
        for finding in registry_errors(document, permissions=vocabulary)
    ]
    if not plan.ok:
        return plan
    stored = {tool.name: tool for tool in ToolDefinition.objects.all()}
    for position, entry in enumerate(document["tools"], start=1):
        tool = stored.pop(entry["name"], None)
        if tool is None:
            plan.created.append(entry["name"])
        elif tool.registry_entry() == entry and tool.position == position:
            plan.unchanged.append(entry["name"])
        else:
            plan.updated.append(entry["name"])
    plan.removed = sorted(stored)
    return plan


def tool_registry_import(*, document, user, source="", dry_run=False):
    """Make the registry equal the file, in one transaction, or refuse the whole file. Platform staff
    only (403 `platform_scope`); `user` is access.SYSTEM for environment loads and operators' commands."""
    for action in ("add", "change", "delete"):
        check_platform_write(user, ToolDefinition, action)
    with transaction.atomic():
        # Serialises concurrent imports: the second waits, then compares against the first's result.
        list(ToolDefinition.objects.select_for_update().values_list("pk", flat=True))
        plan = registry_plan(document)
        if not plan.ok:
            raise RegistryImportError(plan)
        if dry_run:
            return plan
        reason = history_reason(f"imported from {source or 'tools.registry.json'} {plan.version}")
        stored = {tool.name: tool for tool in ToolDefinition.objects.all()}
        for position, entry in enumerate(document["tools"], start=1):
            if entry["name"] in plan.unchanged:
                continue
            tool = stored.get(entry["name"]) or ToolDefinition()
            for name, value in ToolDefinition.fields_from_entry(entry).items():
                setattr(tool, name, value)
            tool.position = position
            row_save(instance=tool, user=user, reason=reason)
        for name in plan.removed:
            row_delete(instance=stored[name], user=user, reason=reason)
        ToolRegistryImport.objects.create(
            version=plan.version,
            source=source[:300],
            imported_by=user if user is not SYSTEM else None,
            created=plan.created,
            updated=plan.updated,
            removed=plan.removed,
            unchanged=plan.unchanged,
        )
    return plan


def tool_registry_export():
    """The stored registry as a tools.registry.json document."""
    latest = ToolRegistryImport.objects.first()
    return {
        "version": latest.version if latest else DEFAULT_VERSION,
        "tools": [tool.registry_entry() for tool in ToolDefinition.objects.order_by("position", "name")],
    }


def render_registry(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- coverage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    name: str
    status: str  # real | not_configured
    handler: str
    mode: str
    permissions: tuple
    enabled: bool
    needs_provider: tuple

    @property
    def note(self):
        notes = []
        if self.status == "not_configured":
            notes.append(
                f"needs an outside provider ({', '.join(self.needs_provider)}); no handler yet"
                if self.needs_provider
                else "no handler yet"
            )
        if not self.enabled:
            notes.append("disabled")
        return "; ".join(notes)


def tool_coverage(entries=None):
    """Real vs not_configured for every tool of the registry (or of the given registry entries)."""
    providers = set(ToolPermission.objects.filter(requires_provider=True).values_list("name", flat=True))
    if entries is None:
        tools = [
            (tool.registry_entry(), tool.enabled)
            for tool in ToolDefinition.objects.order_by("position", "name")
        ]
    else:
        tools = [(entry, True) for entry in entries]
    rows = []
    for entry, enabled in tools:
        handler = resolve_handler(entry["name"])
        rows.append(
            CoverageRow(
                name=entry["name"],
                status=handler.status,
                handler=handler.path,
                mode=entry["idempotency"]["mode"],
                permissions=tuple(entry["permissions"]),
                enabled=enabled,
                needs_provider=tuple(p for p in entry["permissions"] if p in providers),
            )
        )
    return rows


def coverage_markdown(rows, *, version):
    """registry_coverage.md: deterministic (no timestamps), so a regenerated file changes only with
    the registry."""
    real = sum(1 for row in rows if row.status == "real")
    lines = [
        "# Registry coverage",
        "",
        f"Generated by `manage.py tool_coverage` from the tool registry (tools.registry.json {version}). "
        "Do not edit by hand.",
        "",
        f"{real} of {len(rows)} tools are real (a handler exists); {len(rows) - real} are not_configured "
        "(invoking them answers 501 `not_configured`).",
        "",
        "| tool | status | handler | idempotency | permissions | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| `{row.name}` | {row.status} | `{row.handler}` | {row.mode} | "
            f"{', '.join(row.permissions) or '-'} | {row.note or '-'} |"
        )
    return "\n".join(lines) + "\n"
