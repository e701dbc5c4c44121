"""The tools x scopes grid of the draft card: one row per tool (name, title, description, annotation
hints, input schema) and one column per scope (name, description, firearm decision, KPIs), a checkbox
where a scope grants a tool.

The posted names are short because a 300-tool, 10-scope card repeats them thousands of times:
`tn`/`sn` count the rows and columns, `t<i>.<f>` is field `f` of tool row `i` (`n` name, `t` title,
`d` description, `s` input schema, `r`/`x`/`p`/`w` the hints, `z` remove), `t<i>.<j>` the grid cell of
row `i` and column `j`, and `s<j>.<f>` field `f` of scope column `j` (`n` name, `d` description, `f`
firearm decision, `k` KPIs, `z` remove). Rows and columns are never reordered or taken out of the page
(removing one marks it), so row `i` below the stored tool count edits stored tool `i` and the rest are
new; the same for columns and scopes.

A value the user did not touch keeps what is stored, byte for byte: a hint that is not set stays not
set (its checkbox shows what the product assumes for it), an untouched schema keeps its key order and
number types, a description keeps its line ends.
"""

import json
from dataclasses import dataclass, field

from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from workbench.contract import is_destructive, named, strings, tool_findings
from workbench.kit import identifiers as ids
from workbench.kit.forms import load_json_text

NONE_DECISION = "__none__"
MAX_ROWS, MAX_COLUMNS = 5000, 200
NEW_SCHEMA = '{"type": "object"}'

#: (posted code, annotation, label, what the product assumes when the tool does not say)
HINTS = (
    ("r", "readOnlyHint", "read-only"),
    ("x", "destructiveHint", "destructive"),
    ("p", "idempotentHint", "idempotent"),
    ("w", "openWorldHint", "open world"),
)


def _annotations(tool):
    value = tool.get("annotations")
    return value if isinstance(value, dict) else {}


def hint_shown(tool, key):
    """What the checkbox of hint `key` shows for a stored tool: the hint when it is set, else what the
    product assumes (MCP's defaults; an unannotated tool that is not read-only is destructive)."""
    value = _annotations(tool).get(key)
    if isinstance(value, bool):
        return value
    if key == "destructiveHint":
        return is_destructive(tool)
    return key == "openWorldHint"


def schema_text(value):
    """A schema as the card shows it: compact JSON (a 300-tool card carries 300 of them)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value):
    return value if isinstance(value, str) else ""


def _posted_text(data, name, limit):
    """A posted text value with browser line ends made `\n`; a NUL or a value past `limit` is an error."""
    value = data.get(name, "")
    value = value.replace("\r\n", "\n") if isinstance(value, str) else ""
    ProhibitNullCharactersValidator()(value)
    if len(value) > limit:
        raise forms.ValidationError(f"At most {limit} characters (it has {len(value)}).")
    return value


def _count(data, name, limit):
    value = data.get(name, "")
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= limit):
        raise forms.ValidationError(f"The card's {name} must be a number up to {limit}; reload the page.")
    return int(value)


@dataclass
class ToolRow:
    index: int
    origin: int | None  # position in the stored tools; None for a tool added on the page
    name: str
    title: str
    description: str
    schema: str
    hints: list  # (code, label, checked, not set)
    cells: list  # one bool per column
    deleted: bool = False
    errors: list = field(default_factory=list)
    tool: dict | None = None  # the MCP Tool the row describes, once it checks out
    schema_posted: bool = False  # a stored tool's schema editor was opened (its text was posted)

    @property
    def anchor(self):
        return f"t{self.index}"


@dataclass
class ScopeColumn:
    index: int
    origin: int | None
    name: str
    description: str
    firearm: str
    kpis: list
    deleted: bool = False
    errors: list = field(default_factory=list)

    @property
    def anchor(self):
        return f"c{self.index}"


def _is_named(tool):
    return isinstance(tool, dict) and isinstance(tool.get("name"), str)


def _stored_row(index, origin, tool, scope_tools):
    hints = []
    annotations = _annotations(tool)
    for code, key, label in HINTS:
        hints.append((code, label, hint_shown(tool, key), not isinstance(annotations.get(key), bool)))
    return ToolRow(
        index=index,
        origin=origin,
        name=tool["name"],
        title=_text(tool.get("title")),
        description=_text(tool.get("description")),
        schema=schema_text(tool.get("inputSchema")) if "inputSchema" in tool else "",
        hints=hints,
        cells=[tool["name"] in granted for granted in scope_tools],
    )


class Grid:
    """The grid of one draft, from its stored spec and policy or from a posted card."""

    def __init__(self, draft, data=None, *, editable, firearms, kpis):
        spec = draft.spec_snapshot if isinstance(draft.spec_snapshot, dict) else {}
        policy = draft.policy_snapshot if isinstance(draft.policy_snapshot, dict) else {}
        self.stored_tools = spec.get("tools") if isinstance(spec.get("tools"), list) else []
        self.stored_scopes = named(spec.get("scopes"))
        scopes = spec.get("scopes") if isinstance(spec.get("scopes"), list) else []
        self.unnamed_scopes = [scope for scope in scopes if not _is_named(scope)]
        # Positions of the stored tools the rows edit (an item that is not a named tool has no row).
        self.named_origins = [index for index, tool in enumerate(self.stored_tools) if _is_named(tool)]
        self.editable = editable
        self.firearm_choices = firearms
        self.kpi_choices = kpis
        self.errors = []  # about the grid as a whole
        self.rows, self.columns = self._stored(policy)
        if data is not None:
            self._parse(data)

    # -- what is stored ---------------------------------------------------------------------------

    def _stored(self, policy):
        firearms = policy.get("firearms") if isinstance(policy.get("firearms"), dict) else {}
        kpis = policy.get("kpis") if isinstance(policy.get("kpis"), dict) else {}
        columns = []
        for index, scope in enumerate(self.stored_scopes):
            name = scope["name"]
            decision = firearms.get(name)
            columns.append(
                ScopeColumn(
                    index=index,
                    origin=index,
                    name=name,
                    description=_text(scope.get("description")),
                    firearm=NONE_DECISION if name in firearms and decision is None else _text(decision),
                    kpis=strings(kpis.get(name)),
                )
            )
        scope_tools = [set(strings(scope.get("tools"))) for scope in self.stored_scopes]
        rows = [
            _stored_row(index, origin, self.stored_tools[origin], scope_tools)
            for index, origin in enumerate(self.named_origins)
        ]
        return rows, columns

    # -- what is posted ---------------------------------------------------------------------------

    def _parse(self, data):
        # Sent by the card's script: a destructive box the tool does not set followed the read-only box.
        self.hints_follow = data.get("js") == "1"
        if not self.editable:
            for column in self.columns:
                self._parse_policy(data, column)
            return
        try:
            tool_count, scope_count = _count(data, "tn", MAX_ROWS), _count(data, "sn", MAX_COLUMNS)
        except forms.ValidationError as error:
            self.errors.extend(error.messages)
            return
        self.columns = [self._parse_column(data, index) for index in range(scope_count)]
        self.rows = [self._parse_row(data, index, scope_count) for index in range(tool_count)]
        self._check_names(self.rows, "tool")
        self._check_names(self.columns, "scope")
        for row in self.rows:
            if not row.deleted and not row.errors:
                self._check_tool(row)
        for column in self.columns:
            if column.deleted or column.errors or column.name:
                continue
            if column.description or any(row.cells[column.index] for row in self.rows if not row.deleted):
                column.errors.append("A scope needs a name.")

    def _parse_policy(self, data, column):
        prefix = f"s{column.index}."
        firearm = data.get(prefix + "f", "")
        if firearm not in {value for value, _ in self.firearm_choices}:
            column.errors.append("Select a firearm decision from the list.")
        else:
            column.firearm = firearm
        kpis = data.getlist(prefix + "k") if hasattr(data, "getlist") else strings(data.get(prefix + "k"))
        known = {value for value, _ in self.kpi_choices}
        unknown = [kpi for kpi in kpis if kpi not in known]
        if unknown:
            column.errors.append(f"Unknown KPI: {', '.join(sorted(set(unknown)))[:200]}.")
        else:
            column.kpis = list(dict.fromkeys(kpis))

    def _parse_column(self, data, index):
        prefix = f"s{index}."
        errors = []
        origin = index if index < len(self.stored_scopes) else None
        column = ScopeColumn(
            index=index, origin=origin, name="", description="", firearm="", kpis=[], errors=errors,
            deleted=prefix + "z" in data,
        )
        try:
            column.name = _posted_text(data, prefix + "n", 63).strip()
            column.description = _posted_text(data, prefix + "d", 5000)
        except forms.ValidationError as error:
            errors.extend(error.messages)
        if column.name and not errors:
            try:
                ids.validate_scope_name(column.name)
            except forms.ValidationError as error:
                errors.extend(error.messages)
        self._parse_policy(data, column)
        return column

    def _parse_row(self, data, index, scope_count):
        prefix = f"t{index}."
        errors = []
        origin = self.named_origins[index] if index < len(self.named_origins) else None
        stored = self.stored_tools[origin] if origin is not None else {}
        row = ToolRow(
            index=index,
            origin=origin,
            name="",
            title="",
            description="",
            schema="",
            hints=[],
            cells=[f"{prefix}{column}" in data for column in range(scope_count)],
            deleted=prefix + "z" in data,
            errors=errors,
        )
        for code, key, label in HINTS:
            row.hints.append(
                (code, label, prefix + code in data, not isinstance(_annotations(stored).get(key), bool))
            )
        for attr, code, limit in (("name", "n", 128), ("title", "t", 500), ("description", "d", 5000)):
            try:
                setattr(row, attr, _posted_text(data, prefix + code, limit))
            except forms.ValidationError as error:
                errors.extend(f"{attr.capitalize()}: {message}" for message in error.messages)
        row.schema_posted = origin is None or prefix + "s" in data
        try:
            # A stored tool's schema editor is filled only when opened: not posted is untouched.
            row.schema = _posted_text(data, prefix + "s", 1_000_000) if row.schema_posted else (
                schema_text(stored["inputSchema"]) if "inputSchema" in stored else ""
            )
        except forms.ValidationError as error:
            errors.extend(f"Input schema: {message}" for message in error.messages)
        row.name = row.name.strip()
        if not row.deleted and not row.name and not errors:
            errors.append("A tool needs a name.")
        return row

    def _check_names(self, items, what):
        seen = set()
        for item in items:
            if item.deleted or not item.name:
                continue
            if item.name in seen and not item.errors:
                item.errors.append(f"The {what} name {item.name} is used twice.")
            seen.add(item.name)

    def _check_tool(self, row):
        """Build the row's tool and check it as an MCP Tool: one message per problem, on its row."""
        try:
            tool = self._tool(row)
        except forms.ValidationError as error:
            row.errors.extend(f"Input schema: {message}" for message in error.messages)
            return
        row.tool = tool
        # One message per place: the contract's shape check and its JSON Schema check may both speak
        # about the same value ("'object' was expected" and "not a valid JSON Schema").
        said = set()
        for item in tool_findings(tool, "tool"):
            path = item["path"].removeprefix("tool").lstrip(".") or "tool"
            if path not in said:
                said.add(path)
                row.errors.append(f"{path}: {item['message']}")

    def _tool(self, row):
        stored = self.stored_tools[row.origin] if row.origin is not None else {}
        tool = dict(stored)
        tool["name"] = row.name
        for key, value in (("title", row.title), ("description", row.description)):
            if row.origin is not None and value == _text(stored.get(key)):
                continue  # untouched: whatever is stored stays (absent stays absent)
            if value:
                tool[key] = value
            else:
                tool.pop(key, None)
        shown = schema_text(stored.get("inputSchema")) if "inputSchema" in stored else ""
        if row.origin is None or row.schema != shown:
            schema = load_json_text(row.schema or "null")
            if not isinstance(schema, dict):
                raise forms.ValidationError("must be a JSON object (a JSON Schema).")
            tool["inputSchema"] = schema
        annotations = dict(_annotations(stored))
        touched = False
        for (_, key, _), (_, _, checked, unset) in zip(HINTS, row.hints, strict=True):
            assumed = hint_shown(stored, key)
            if key == "destructiveHint" and unset and self.hints_follow:
                assumed = not row.hints[0][2]  # the card's script keeps it in step with the read-only box
            if checked != assumed:
                annotations[key] = checked
                touched = True
        if touched:
            tool["annotations"] = annotations
        return tool

    # -- results ----------------------------------------------------------------------------------

    def is_valid(self):
        return not self.errors and not any(item.errors for item in [*self.rows, *self.columns])

    def live_rows(self):
        return [row for row in self.rows if not row.deleted]

    def live_columns(self):
        return [column for column in self.columns if not column.deleted and column.name]

    def tools(self):
        """The rows' tools in page order, then any stored item that is not a named tool object (the card
        cannot edit those; validation reports them): the card never drops what it does not show."""
        return [row.tool for row in self.live_rows()] + [
            tool for tool in self.stored_tools if not _is_named(tool)
        ]

    def scopes(self):
        """The scopes in page order, then any stored item that is not a named scope object (kept as
        tools() keeps such tools; validation reports them); while the draft is not editable, the stored
        ones."""
        if not self.editable:
            return self.stored_scopes + self.unnamed_scopes
        rows = self.live_rows()
        scopes = []
        for column in self.live_columns():
            scope = dict(self.stored_scopes[column.origin]) if column.origin is not None else {}
            scope["name"] = column.name
            if column.description or "description" in scope:
                scope["description"] = column.description
            scope["tools"] = [row.name for row in rows if row.cells[column.index]]
            scopes.append(scope)
        return scopes + self.unnamed_scopes

    def policy(self):
        """The firearm decisions and KPIs the columns describe; an undecided firearm has no key."""
        firearms, kpis = {}, {}
        for column in self.live_columns() if self.editable else self.columns:
            if column.firearm == NONE_DECISION:
                firearms[column.name] = None
            elif column.firearm:
                firearms[column.name] = column.firearm
            if column.kpis:
                kpis[column.name] = list(column.kpis)
        return {"firearms": firearms, "kpis": kpis}

    def error_links(self):
        """(anchor, label, message) of every mistake in the grid, in page order."""
        links = [("tools", "Tools and scopes", message) for message in self.errors]
        links += [
            (column.anchor, f"Scope {column.name or column.index + 1}", message)
            for column in self.columns
            for message in column.errors
        ]
        links += [
            (row.anchor, f"Tool {row.name or row.index + 1}", message)
            for row in self.rows
            for message in row.errors
        ]
        return links

    def firearm_label(self, value):
        return dict(self.firearm_choices).get(value, value)

