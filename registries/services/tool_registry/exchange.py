"""tools.registry.json in and out, whole: the registry is the file (seed 002: "the single source of truth").

`tool_registry_import` is the one way tools change and the one place a file is refused: the command, the
admin upload and environment loads all call it, previews as `dry_run`. It is all or nothing: every tool is
validated first (the registry schema file, the tools' own JSON Schemas, the permission vocabulary), then
the rules of `rules` (the keyed tools' list, one handler per tool); one problem and nothing is written,
each problem naming the tool and its JSON path. The file is the registry: tools it does not list are
removed (their history rows keep them). The file's text is kept with the import, and the export gives
exactly that text back.
"""

import json
from dataclasses import dataclass, field

from django.db import transaction

from registries.models import ToolDefinition, ToolPermission, ToolRegistryImport
from registries.schemas import registry_errors, tool_label
from registries.services.tool_registry import rules
from workbench.kit import jsontext
from workbench.kit.access import SYSTEM
from workbench.kit.models import REASON_LIMIT
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import history_reason, row_delete, row_save
from workbench.kit.uploads import check_size
from workbench.tenancy.access import check_platform_write

DEFAULT_VERSION = "1.0.0"


@dataclass
class RegistryPlan:
    """What an import would do (or did): per tool name, the keyed tools' list after it, every problem."""

    version: str = ""
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # "tool 'x': $.tools[3].path: message"
    error_codes: list = field(default_factory=list)  # one per error: invalid_registry, handler_collision, ...
    key_changes: list = field(default_factory=list)  # rules.KeyChange, refused unless allow_key_change
    keyed_tools: dict = field(default_factory=dict)  # the keyed tools' list in force after the import

    @property
    def ok(self):
        return not self.errors

    def add_error(self, code, message):
        self.errors.append(message)
        self.error_codes.append(code)

    def summary(self):
        text = (
            f"version {self.version}: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed"
        )
        if self.key_changes:
            text += f", {len(self.key_changes)} keyed tool(s) changed deliberately"
        return text


class RegistryImportError(Refusal):
    """400 `invalid_registry`: the file was refused, nothing written; `plan.errors` lists every
    problem, each naming the tool and JSON path (and so does `errors`, one entry each, with its own code:
    `invalid_registry`, `keyed_tool_changed` or `handler_collision`)."""

    def __init__(self, plan):
        self.plan = plan
        # Errors appended to the plan directly (not through add_error) are the schema's.
        codes = plan.error_codes + ["invalid_registry"] * (len(plan.errors) - len(plan.error_codes))
        super().__init__(
            400,
            "invalid_registry",
            f"The tool registry file was refused ({len(plan.errors)} problem(s)); nothing was written.",
            errors=[
                field_error(None, code, problem) for code, problem in zip(codes, plan.errors, strict=True)
            ],
        )


def parse_registry(content):
    """JSON text or bytes -> document; a RegistryImportError if it is not JSON the system can take
    (NUL, lone surrogates and nesting past the depth limit are refused with their JSON path)."""
    check_size(len(content), "The registry file")
    try:
        return jsontext.loads(content, what="The registry file")
    except Refusal as refusal:
        plan = RegistryPlan()
        for error in refusal.errors:
            plan.add_error("invalid_registry", f"registry: {error['field']}: {error['message']}")
        raise RegistryImportError(plan) from None


def registry_plan(document, *, allow_key_change=False):
    """Validate a registry document against the schema, the vocabulary and the registry's rules, and
    compare it with the stored registry; writes nothing. Callers outside this module use
    `tool_registry_import(dry_run=True)`, which also checks who asks."""
    vocabulary = set(ToolPermission.objects.values_list("name", flat=True))
    plan = RegistryPlan(version=document.get("version", "") if isinstance(document, dict) else "")
    for finding in registry_errors(document, permissions=vocabulary):
        plan.add_error("invalid_registry", f"{tool_label(document, finding.path)}: {finding}")
    for problem in rules.handler_collisions(document):
        plan.add_error("handler_collision", problem)
    stored = {tool.name: tool for tool in ToolDefinition.objects.all()}
    keyed_list = rules.keyed_tools_list()
    plan.key_changes = rules.key_changes(document, keyed_list=keyed_list, stored_names=set(stored))
    if allow_key_change:
        plan.keyed_tools = rules.file_keyed_tools(document)
    else:
        plan.keyed_tools = keyed_list
        for change in plan.key_changes:
            plan.add_error("keyed_tool_changed", change.problem())
    if not plan.ok:
        return plan
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


def _reason_refusal(reason, allow_key_change):
    if not allow_key_change:
        return None
    if not reason.strip():
        message = "Say why the keyed tools' list changes: the reason is kept with the import and in history."
        return Refusal.invalid([field_error("reason", "required", message)], code="reason_required")
    if len(reason) > REASON_LIMIT:
        message = f"Ensure this value has at most {REASON_LIMIT} characters (it has {len(reason)})."
        return Refusal.invalid([field_error("reason", "max_length", message)])
    return None


def tool_registry_import(
    *,
    user,
    content=None,
    document=None,
    source="",
    dry_run=False,
    allow_key_change=False,
    reason="",
):
    """Make the registry equal the file, in one transaction, or refuse the whole file (400
    `invalid_registry`, every problem listed). `content` is the file as read (bytes or text), kept so the
    export gives it back byte for byte; `document` an already parsed file (kept as `render_registry` writes
    it). Platform staff only (403 `platform_scope`); `user` is access.SYSTEM for environment loads and
    operators' commands.

    `allow_key_change` (with a `reason`, 400 `reason_required` without) is the deliberate change of the
    keyed tools' list: the file may then make a listed tool non-keyed, re-key it or drop it, and its keyed
    tools become the list; the tools it changes get the reason and the user in their history rows."""
    for action in ("add", "change", "delete"):
        check_platform_write(user, ToolDefinition, action)
    reason = str(reason or "")
    refusal = _reason_refusal(reason, allow_key_change)
    if refusal:
        raise refusal
    if content is not None:
        if isinstance(content, str):  # as bytes: a BOM is taken like a file's, a lone surrogate refused
            content = content.encode("utf-8", "surrogatepass")
        document = parse_registry(content)
        # parse_registry took it as UTF-8 (BOM allowed), so this keeps every byte, a BOM included.
        text = bytes(content).decode("utf-8")
    elif document is not None:
        text = render_registry(document)
    else:
        raise TypeError("tool_registry_import needs the file's content or its parsed document.")
    with transaction.atomic():
        # Serialises concurrent imports: the second waits, then compares against the first's result.
        list(ToolDefinition.objects.select_for_update().values_list("pk", flat=True))
        plan = registry_plan(document, allow_key_change=allow_key_change)
        if not plan.ok:
            raise RegistryImportError(plan)
        if dry_run:
            return plan
        _write(document, plan, user=user, source=source, key_change_reason=reason if allow_key_change else "")
        ToolRegistryImport.objects.create(
            version=plan.version,
            source=source[:300],
            imported_by=user if user is not SYSTEM else None,
            created=plan.created,
            updated=plan.updated,
            removed=plan.removed,
            unchanged=plan.unchanged,
            content=text,
            keyed_tools=plan.keyed_tools,
            key_change_reason=reason if allow_key_change else "",
        )
    return plan


def _write(document, plan, *, user, source, key_change_reason):
    imported = f"imported from {source or 'tools.registry.json'} {plan.version}"
    # A deliberate key change puts its reason first, where the history column's 100 characters keep it.
    why = history_reason(f"key change: {key_change_reason} ({imported})" if key_change_reason else imported)
    stored = {tool.name: tool for tool in ToolDefinition.objects.all()}
    for position, entry in enumerate(document["tools"], start=1):
        if entry["name"] in plan.unchanged:
            continue
        tool = stored.get(entry["name"]) or ToolDefinition()
        for name, value in ToolDefinition.fields_from_entry(entry).items():
            setattr(tool, name, value)
        tool.position = position
        tool.written_by_registry_import = True  # the model's guard: only an import changes the file's fields
        row_save(instance=tool, user=user, reason=why)
    for name in plan.removed:
        row_delete(instance=stored[name], user=user, reason=why)


def tool_registry_export():
    """The stored registry as a tools.registry.json document."""
    latest = ToolRegistryImport.objects.only("version").first()
    return {
        "version": latest.version if latest else DEFAULT_VERSION,
        "tools": [tool.registry_entry() for tool in ToolDefinition.objects.order_by("position", "name")],
    }


def tool_registry_export_text():
    """tools.registry.json as the last import took it, byte for byte (its formatting, key order and
    all), which the stored tools always equal; rendered from the stored tools only when no import kept
    its text (a registry imported before the text was kept)."""
    document = tool_registry_export()
    latest = ToolRegistryImport.objects.only("content").first()
    if latest and latest.content:
        try:
            if jsontext.loads(latest.content.encode(), what="The last imported registry") == document:
                return latest.content
        except Refusal:
            pass
    return render_registry(document)


def render_registry(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
