"""The tool registry's JSON Schema (`tools.registry.schema.json`, next to this module) and the checks on it.

One schema file judges a whole registry file on import and one tool in the model's full_clean. On top of
the file's structural rules come the checks a schema cannot express: the tool's own schemas are valid for
their `$schema` dialect, a keyed tool's key field is an input property, and permissions come from the
vocabulary. Nothing here touches the database: callers pass the vocabulary in.
"""

import json
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from registries.schemas.safety import ref_cycles, unsupported_patterns
from workbench.kit import identifiers as ids
from workbench.kit.jsontext import list_index, unstorable_text

SCHEMA_PATH = Path(__file__).with_name("tools.registry.schema.json")
DEFAULT_DIALECT = Draft202012Validator
_UNKNOWN = object()


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (a JSON path such as `$.tools[3].input_schema.type`) and what it is."""

    path: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}"


@cache
def registry_schema():
    """The registry file's schema, read once per process (it is code, not data)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    DEFAULT_DIALECT.check_schema(schema)
    name_pattern = schema["$defs"]["tool"]["properties"]["name"]["pattern"]
    if name_pattern != ids.TOOL_NAME:
        raise ImproperlyConfigured(
            f"{SCHEMA_PATH.name}: the tool name pattern {name_pattern!r} differs from identifiers.TOOL_NAME."
        )
    return schema


@cache
def _registry_validator():
    return DEFAULT_DIALECT(registry_schema(), format_checker=DEFAULT_DIALECT.FORMAT_CHECKER)


@cache
def _tool_validator():
    schema = registry_schema()
    tool_schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/tool"}
    return DEFAULT_DIALECT(tool_schema, format_checker=DEFAULT_DIALECT.FORMAT_CHECKER)


def json_path(base, parts):
    """`$` + ['tools', 3, 'name'] -> `$.tools[3].name`."""
    path = base
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def dialect_for(schema):
    """The jsonschema validator class for a schema's `$schema` (2020-12 when absent); None when unknown."""
    if not isinstance(schema, dict) or "$schema" not in schema:
        return DEFAULT_DIALECT
    if not isinstance(schema["$schema"], str):
        return None  # jsonschema's lookup assumes a string and crashes on anything else
    found = validator_for(schema, default=_UNKNOWN)
    return None if found is _UNKNOWN else found


def _remote_refs(node, parts=()):
    """Paths of `$ref`s that point outside the schema: the gateway never fetches schemas over the network."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and not value.startswith("#"):
                yield [*parts, key]
            else:
                yield from _remote_refs(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _remote_refs(value, (*parts, index))


def _pointer_target(root, pointer):
    node = root
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and (index := list_index(part)) is not None and index < len(node):
            node = node[index]
        else:
            return False
    return True


def _anchors(node):
    if isinstance(node, dict):
        if isinstance(node.get("$anchor"), str):
            yield node["$anchor"]
        for value in node.values():
            yield from _anchors(value)
    elif isinstance(node, list):
        for value in node:
            yield from _anchors(value)


def _dangling_refs(schema):
    """Local `$ref`s that point at nothing: they would fail every call at validation time."""
    anchors = set(_anchors(schema))
    for path in _local_refs(schema):
        ref = path[1]
        if ref == "#":
            continue
        target = ref[1:]
        if (target.startswith("/") and not _pointer_target(schema, target)) or (
            not target.startswith("/") and target not in anchors
        ):
            yield path[0], ref


def _local_refs(node, parts=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                yield [*parts, key], value
            else:
                yield from _local_refs(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _local_refs(value, (*parts, index))


def schema_errors(schema, *, path):
    """Is `schema` a valid JSON Schema for the dialect it names, and one evaluated in bounded time? Its
    dialect's metaschema, local `$ref`s only and none dangling or looping, patterns RE2 can take."""
    dialect = dialect_for(schema)
    if dialect is None:
        return [
            Finding(
                f"{path}.$schema",
                f"Unknown $schema {schema.get('$schema')!r}; use a JSON Schema dialect "
                "URI such as https://json-schema.org/draft/2020-12/schema.",
            )
        ]
    meta = validator_for(dialect.META_SCHEMA, default=dialect)
    checker = meta(dialect.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)
    findings = [
        Finding(json_path(path, error.absolute_path), f"not a valid JSON Schema: {error.message}")
        for error in sorted(checker.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    ]
    findings += [
        Finding(json_path(path, ref), "Only local $ref ('#/...') are supported: schemas are never fetched.")
        for ref in _remote_refs(schema)
    ]
    findings += [
        Finding(json_path(path, ref_path), f"$ref {ref!r} points at nothing in this schema.")
        for ref_path, ref in _dangling_refs(schema)
    ]
    reported = {finding.path for finding in findings}
    findings += [
        Finding(
            json_path(path, parts),
            f"Pattern {pattern!r} cannot be evaluated in linear time (RE2: {reason}); "
            "backreferences and lookaround are not supported.",
        )
        for parts, pattern, reason in unsupported_patterns(schema)
        # A pattern that is not a regular expression at all was reported by the metaschema already.
        if json_path(path, parts) not in reported
    ]
    findings += [
        Finding(
            json_path(path, _pointer_parts(pointer)),
            "$ref loops back to a schema already applied to the same value: evaluation would never end.",
        )
        for pointer in ref_cycles(schema)
    ]
    return findings


def _pointer_parts(pointer):
    parts = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(part if list_index(part) is None else list_index(part))
    return parts


def _structural(validator, document, base):
    return [
        Finding(json_path(base, error.absolute_path), error.message)
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def unstorable_paths(node, base="$"):
    """(path, message) wherever a JSON value holds text PostgreSQL cannot store (NUL, lone surrogates)."""
    return [(json_path(base, parts), message) for parts, _code, message in unstorable_text(node)]


def tool_errors(entry, *, permissions: Collection[str] | None, base="$"):
    """Everything wrong with one registry entry (a dict shaped like a `tools[]` item), as findings.

    `permissions` is the vocabulary (names); None skips that check (e.g. for a file-level dry look).
    """
    findings = _structural(_tool_validator(), entry, base)
    if not isinstance(entry, dict):
        return findings
    findings += [Finding(path, message) for path, message in unstorable_paths(entry, base)]
    for field in ("input_schema", "output_schema"):
        if isinstance(entry.get(field), dict):
            findings += schema_errors(entry[field], path=f"{base}.{field}")
    idempotency = entry.get("idempotency")
    key_field = idempotency.get("key_field") if isinstance(idempotency, dict) else None
    input_schema = entry.get("input_schema")
    if isinstance(key_field, str) and key_field and isinstance(input_schema, dict):
        properties = input_schema.get("properties")
        if not isinstance(properties, dict) or key_field not in properties:
            findings.append(
                Finding(
                    f"{base}.idempotency.key_field",
                    f"key_field {key_field!r} is not a property of input_schema.",
                )
            )
    if permissions is not None and isinstance(entry.get("permissions"), list):
        known = set(permissions)
        for index, name in enumerate(entry["permissions"]):
            if isinstance(name, str) and name not in known:
                findings.append(
                    Finding(
                        f"{base}.permissions[{index}]",
                        f"Unknown permission {name!r}; known: {', '.join(sorted(known)) or 'none'}. "
                        "Staff add permissions to the vocabulary in the admin.",
                    )
                )
    return findings


def registry_errors(document, *, permissions: Collection[str] | None):
    """Everything wrong with a whole registry file: structure, every tool, duplicate names."""
    findings = _structural(_registry_validator(), document, "$")
    tools = document.get("tools") if isinstance(document, dict) else None
    if not isinstance(tools, list):
        return findings
    reported = set(findings)
    seen = {}
    for index, entry in enumerate(tools):
        base = f"$.tools[{index}]"
        # The file-level pass already reported each tool's structure; add the deeper checks once.
        for finding in tool_errors(entry, permissions=permissions, base=base):
            if finding not in reported:
                reported.add(finding)
                findings.append(finding)
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str):
            if name in seen:
                findings.append(
                    Finding(f"{base}.name", f"Duplicate tool name {name!r} (first at $.tools[{seen[name]}]).")
                )
            seen.setdefault(name, index)
    return findings


def tool_label(document, path):
    """`tool 'leads.create'` for a finding under $.tools[i], so import errors name the tool."""
    if not path.startswith("$.tools["):
        return "registry"
    index = int(path[len("$.tools[") : path.index("]")])
    try:
        name = document["tools"][index].get("name")
    except (KeyError, IndexError, AttributeError, TypeError):
        name = None
    return f"tool {name!r}" if isinstance(name, str) else f"tool #{index}"
