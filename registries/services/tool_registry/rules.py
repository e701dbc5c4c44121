"""The registry file's rules beyond its schema (seed 002): the keyed tools' list, and one handler per tool.

- **The keyed tools' list is authoritative.** Seed 002 lists five keyed tools with their key fields. A
  keyed tool's key is what makes "same key, same domain row" hold: an import that made one of them
  non-keyed, keyed it by another field, or dropped it from a registry that has it would let the gateway
  create duplicate leads, assets or memories. Such a file is refused, naming the tool, unless the import
  is a deliberate key change (`allow_key_change` with a reason): then the file's keyed tools become the
  list. The list in force is recorded on every import (`ToolRegistryImport.keyed_tools`); before any
  import, or on imports from before the list was recorded, it is the seed's.
- **One handler per tool.** Dispatch maps `a.b.c` to module `a`, function `b_c` (gateway/dispatch.py), so
  `a.b_c` and `a.b.c` would run the same function: such a pair is refused, naming both.
"""

from dataclasses import dataclass

from registries.models import ToolRegistryImport
from registries.services.gateway.dispatch import handler_parts

#: Seed 002, "Keyed Tools (Authoritative List)": tool -> key field.
SEED_KEYED_TOOLS = {
    "leads.create": "phone",
    "media.register_asset": "file_ref",
    "identity.add_memory": "key",
    "identity.score_pattern": "key",
    "personal.boundary_set": "key",
}

OVERRIDE_HINT = (
    "a deliberate change needs --allow-key-change (admin: 'Change the keyed tools' list') and a reason"
)


@dataclass(frozen=True)
class KeyChange:
    """One keyed tool of the list that the file would change: `after` is its new key field, or None
    when the file makes it non-keyed (`mode`) or drops it (`dropped`)."""

    tool: str
    before: str
    after: str | None
    mode: str = "keyed"
    dropped: bool = False
    position: int | None = None  # index in the file's tools, when the file has the tool

    def __str__(self):
        if self.dropped:
            change = "the file drops it"
        elif self.after is None:
            change = f"the file makes it {self.mode!r}"
        else:
            change = f"the file keys it by {self.after!r}"
        return f"{self.tool} is keyed by {self.before!r} in the keyed tools' list; {change}"

    def problem(self):
        where = "" if self.position is None else f"$.tools[{self.position}].idempotency: "
        return f"tool {self.tool!r}: {where}{self}. Refused: {OVERRIDE_HINT}."


def keyed_tools_list():
    """The keyed tools' list in force: the latest import's record of it, else seed 002's."""
    recorded = (
        ToolRegistryImport.objects.exclude(keyed_tools=None)
        .order_by("-imported_at", "-id")
        .values_list("keyed_tools", flat=True)
        .first()
    )
    return dict(SEED_KEYED_TOOLS if recorded is None else recorded)


def _entries(document):
    """(position, entry) of every tool entry that has a string name; defensive, so the rules can run
    beside the schema's findings on a file that is otherwise broken."""
    tools = document.get("tools") if isinstance(document, dict) else None
    if not isinstance(tools, list):
        return []
    return [
        (position, entry)
        for position, entry in enumerate(tools)
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    ]


def _idempotency(entry):
    idempotency = entry.get("idempotency")
    if not isinstance(idempotency, dict):
        return None, None
    return idempotency.get("mode"), idempotency.get("key_field")


def file_keyed_tools(document):
    """The file's keyed tools: name -> key field."""
    keyed = {}
    for _, entry in _entries(document):
        mode, key_field = _idempotency(entry)
        if mode == "keyed" and isinstance(key_field, str):
            keyed[entry["name"]] = key_field
    return keyed


def key_changes(document, *, keyed_list, stored_names):
    """What the file would change about the keyed tools' list: each listed tool the file makes non-keyed
    or keys by another field, or drops while the registry (`stored_names`) has it."""
    in_file = {entry["name"]: (position, entry) for position, entry in _entries(document)}
    changes = []
    for name, key_field in keyed_list.items():
        if name not in in_file:
            if name in stored_names:
                changes.append(KeyChange(name, key_field, None, mode="", dropped=True))
            continue
        position, entry = in_file[name]
        mode, new_key = _idempotency(entry)
        if mode != "keyed":
            changes.append(KeyChange(name, key_field, None, mode=str(mode), position=position))
        elif new_key != key_field:
            changes.append(KeyChange(name, key_field, new_key, position=position))
    return changes


def handler_collisions(document):
    """Problems for tool names that dispatch to the same handler (`a.b_c` and `a.b.c`), naming all."""
    by_handler = {}
    for position, entry in _entries(document):
        by_handler.setdefault(handler_parts(entry["name"]), []).append((position, entry["name"]))
    problems = []
    for (module, function), named in by_handler.items():
        names = sorted({name for _, name in named})
        if len(names) < 2:
            continue  # one name listed twice is the schema's duplicate, not a dispatch clash
        where = ", ".join(f"$.tools[{position}]" for position, _ in named)
        listed = " and ".join(repr(name) for name in names)
        problems.append(
            f"tools {listed} ({where}) dispatch to the same handler, function {function!r} of module "
            f"{module!r}: rename one of them."
        )
    return problems
