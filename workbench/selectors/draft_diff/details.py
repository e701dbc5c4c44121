"""Field-by-field details of one changed object: how a tool's JSON Schema changed (properties added,
removed or changed, and in what: type, required, enum, description, ...), which annotation hints changed.

A detail: {"path", "change", "aspect", "summary", "before", "after"}. `path` is a JSON path inside the
object the entry is about (`inputSchema.properties.limit.type`), `change` one of added, removed,
changed, `aspect` the keyword or field that changed (type, required, enum, description, property, ...).
"""

import json

from workbench.kit.jsontext import same_json

#: Keywords whose value maps names to subschemas: each name is compared as a subschema of its own.
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
#: Keywords whose value is one subschema.
SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
#: Keywords whose value is a list of subschemas, compared by position.
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
#: Cut for values quoted in a summary; the full value stays in `before` and `after`.
QUOTED = 60


class _Missing:
    """A key an object does not have (None is JSON's null, a value)."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def detail(path, change, aspect, summary, before=None, after=None):
    return {
        "path": path,
        "change": change,
        "aspect": aspect,
        "summary": summary,
        "before": before,
        "after": after,
    }


def quoted(value):
    """A value as a summary shows it: strings as they are, everything else as compact JSON, cut."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


def _where(path):
    """What a schema path names, for people: "inputSchema.properties.a.items.properties.b" ->
    "inputSchema property a[].b"; the root is the schema's own name."""
    parts = path.split(".")
    root, rest = parts[0], parts[1:]
    names, index = [], 0
    while index < len(rest):
        part = rest[index]
        if part in SCHEMA_MAPS and index + 1 < len(rest):
            names.append(rest[index + 1])
            index += 2
            continue
        if names:
            names[-1] += "[]" if part == "items" else f".{part}"
        else:
            names.append(part)
        index += 1
    if not names:
        return root
    return f"{root} property {'.'.join(names)}" if rest and rest[0] == "properties" else (
        f"{root} {'.'.join(names)}"
    )


def _type_of(schema):
    if isinstance(schema, dict) and "type" in schema:
        return f" ({quoted(schema['type'])})"
    return ""


def schema_details(before, after, path):
    """Details turning JSON Schema `before` into `after` (either may be MISSING or not an object)."""
    if before is MISSING and after is MISSING:
        return []
    if before is MISSING:
        return [detail(path, "added", "schema", f"{_where(path)} added{_type_of(after)}", after=after)]
    if after is MISSING:
        return [detail(path, "removed", "schema", f"{_where(path)} removed{_type_of(before)}", before=before)]
    if same_json(before, after):
        return []
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [
            detail(
                path,
                "changed",
                "schema",
                f"{_where(path)}: {quoted(before)} -> {quoted(after)}",
                before,
                after,
            )
        ]
    out = []
    for keyword in sorted(set(before) | set(after)):
        old, new = before.get(keyword, MISSING), after.get(keyword, MISSING)
        if old is not MISSING and new is not MISSING and same_json(old, new):
            continue
        where = f"{path}.{keyword}"
        if keyword in SCHEMA_MAPS and isinstance(old, dict | _Missing) and isinstance(new, dict | _Missing):
            out.extend(_map_details(old, new, where))
        elif keyword in SCHEMA_ONE:
            out.extend(schema_details(old, new, where))
        elif keyword in SCHEMA_LISTS and all(isinstance(side, list | _Missing) for side in (old, new)):
            old_list = old if isinstance(old, list) else []
            new_list = new if isinstance(new, list) else []
            for index in range(max(len(old_list), len(new_list))):
                out.extend(
                    schema_details(
                        old_list[index] if index < len(old_list) else MISSING,
                        new_list[index] if index < len(new_list) else MISSING,
                        f"{where}[{index}]",
                    )
                )
        elif keyword in ("required", "enum"):
            out.extend(_set_details(old, new, where, keyword, path))
        else:
            out.append(_keyword_detail(old, new, where, keyword, path))
    return out


def _map_details(old, new, where):
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    out = []
    for name in sorted(set(old) | set(new)):
        out.extend(schema_details(old.get(name, MISSING), new.get(name, MISSING), f"{where}.{name}"))
    return out


def _keyword_detail(old, new, where, keyword, path):
    what = f"{_where(path)}: {keyword}"
    if old is MISSING:
        return detail(where, "added", keyword, f"{what} {quoted(new)} added", after=new)
    if new is MISSING:
        return detail(where, "removed", keyword, f"{what} {quoted(old)} removed", before=old)
    return detail(where, "changed", keyword, f"{what} {quoted(old)} -> {quoted(new)}", old, new)


def _set_details(old, new, where, keyword, path):
    """`required` and `enum`: which names or values came and went, one detail each (a value that is not
    a list is compared whole)."""
    old_list = old if isinstance(old, list) else ([] if old is MISSING else None)
    new_list = new if isinstance(new, list) else ([] if new is MISSING else None)
    if old_list is None or new_list is None:
        return [_keyword_detail(old, new, where, keyword, path)]
    out = []
    for value in new_list:
        if not any(same_json(value, known) for known in old_list):
            if keyword == "required":
                summary = f"{_where(f'{path}.properties.{value}')} now required"
            else:
                summary = f"{_where(path)}: enum value {quoted(value)} added"
            out.append(detail(where, "added", keyword, summary, after=value))
    for value in old_list:
        if not any(same_json(value, known) for known in new_list):
            if keyword == "required":
                summary = f"{_where(f'{path}.properties.{value}')} no longer required"
            else:
                summary = f"{_where(path)}: enum value {quoted(value)} removed"
            out.append(detail(where, "removed", keyword, summary, before=value))
    return out


def plain_details(before, after, path, *, label=None):
    """One detail per key of two objects that differ (annotations: one per hint); a side that is not an
    object is compared whole."""
    label = label or path
    before = before if before is not None else MISSING
    after = after if after is not None else MISSING
    if isinstance(before, dict | _Missing) and isinstance(after, dict | _Missing):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        out = []
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a is not MISSING and b is not MISSING and same_json(a, b):
                continue
            out.append(_keyword_detail(a, b, f"{path}.{key}", key, label))
        return out
    return [_keyword_detail(before, after, path, label, label)]


def field_detail(before, after, field):
    """A top-level field of a tool (title, description): one detail."""
    before = MISSING if before is None else before
    after = MISSING if after is None else after
    if before is MISSING and after is MISSING:
        return []
    if before is MISSING:
        return [detail(field, "added", field, f"{field} added: {quoted(after)}", after=after)]
    if after is MISSING:
        return [detail(field, "removed", field, f"{field} removed (was {quoted(before)})", before=before)]
    return [detail(field, "changed", field, f"{field} {quoted(before)} -> {quoted(after)}", before, after)]
