"""A tool's JSON Schemas are written by people and evaluated against every call's input: evaluation is kept
bounded.

- `pattern` and `patternProperties` run on RE2 (google-re2: linear time, no backtracking), and so does the
  `regex` format. A pattern RE2 cannot take (backreferences, lookaround) is refused where the schema
  enters (registry import, draft validation), naming the path; `^(a+)+$` is fine and fast.
- `$ref` chains that loop back without consuming the instance (`{"$ref": "#"}`, two definitions referring
  to each other through `allOf`) are refused where they enter: jsonschema would recurse until the stack
  runs out. Recursion through `properties` or `items` (trees) is fine.
- Validating one value has a time budget (`VALIDATION_BUDGET`); past it the call is refused, not run.
"""

import time
from functools import cache, lru_cache

import re2
from jsonschema import FormatChecker, ValidationError, validators

from workbench.kit.jsontext import list_index

VALIDATION_BUDGET = 1.0  # seconds

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
# Keywords whose values are data, not subschemas: a {"pattern": ...} inside them is not a pattern.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "$comment", "description", "title"})
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_ONE = ("not", "if", "then", "else")


class ValidationTooSlow(Exception):
    """Validating one value took longer than VALIDATION_BUDGET."""


@lru_cache(maxsize=2048)
def _compiled(pattern):
    return re2.compile(pattern, _OPTIONS)


def pattern_problem(pattern):
    """Why RE2 cannot evaluate `pattern`, or None."""
    try:
        _compiled(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        return reason.decode() if isinstance(reason, bytes) else str(reason)
    return None


def _search(pattern, text):
    try:
        return _compiled(pattern).search(text) is not None
    except re2.error:
        return False


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    if pattern_problem(pattern) is not None:
        yield ValidationError(f"{pattern!r} is not a pattern this server evaluates.")
    elif not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@cache
def _format_checker(dialect):
    checker = FormatChecker()
    checker.checkers = dict(dialect.FORMAT_CHECKER.checkers)

    @checker.checks("regex", raises=re2.error)
    def is_regex(instance):
        if isinstance(instance, str):
            _compiled(instance)
        return True

    return checker


@cache
def _safe_class(dialect):
    return validators.extend(dialect, {"pattern": _pattern, "patternProperties": _pattern_properties})


def safe_validator(dialect, schema):
    """A validator of `schema` in `dialect` whose patterns and regex format run on RE2."""
    return _safe_class(dialect)(schema, format_checker=_format_checker(dialect))


def errors_within(validator, instance, budget=VALIDATION_BUDGET):
    """The validator's errors for `instance`; ValidationTooSlow past `budget` seconds."""
    deadline = time.monotonic() + budget
    errors = []
    for error in validator.iter_errors(instance):
        errors.append(error)
        if time.monotonic() > deadline:
            raise ValidationTooSlow()
    if time.monotonic() > deadline:
        raise ValidationTooSlow()
    return errors


# -- what a schema may not hold ---------------------------------------------------------------------


def unsupported_patterns(node, parts=()):
    """(path parts, pattern, reason) for each `pattern` or `patternProperties` key RE2 cannot take."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key == "pattern" and isinstance(value, str):
                reason = pattern_problem(value)
                if reason:
                    yield [*parts, key], value, reason
            elif key == "patternProperties" and isinstance(value, dict):
                for pattern, subschema in value.items():
                    reason = pattern_problem(pattern)
                    if reason:
                        yield [*parts, key, pattern], pattern, reason
                    yield from unsupported_patterns(subschema, (*parts, key, pattern))
            else:
                yield from unsupported_patterns(value, (*parts, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from unsupported_patterns(value, (*parts, index))


def _resolve(root, pointer):
    node = root
    for raw in pointer.split("/")[1:] if pointer else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and (index := list_index(part)) is not None and index < len(node):
            node = node[index]
        else:
            return None
    return node


def _anchors(node, pointer="", found=None):
    found = {} if found is None else found
    if isinstance(node, dict):
        if isinstance(node.get("$anchor"), str):
            found.setdefault(node["$anchor"], pointer)
        for key, value in node.items():
            _anchors(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}", found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _anchors(value, f"{pointer}/{index}", found)
    return found


def _in_place(root, pointer, anchors):
    """Schemas applied to the same instance as the one at `pointer` (its $ref target, allOf items...)."""
    node = _resolve(root, pointer)
    if not isinstance(node, dict):
        return []
    targets = []
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        fragment = ref[1:]
        targets.append(fragment if fragment.startswith("/") or not fragment else anchors.get(fragment))
    for key in _IN_PLACE_LISTS:
        if isinstance(node.get(key), list):
            targets += [f"{pointer}/{key}/{index}" for index in range(len(node[key]))]
    targets += [f"{pointer}/{key}" for key in _IN_PLACE_ONE if isinstance(node.get(key), dict)]
    return [target for target in targets if target is not None]


def ref_cycles(schema):
    """Pointers of `$ref`s through which evaluation comes back to the same schema on the same instance."""
    anchors = _anchors(schema)
    cycles, done = [], set()
    for start in _ref_holders(schema):
        if start in done:
            continue
        path, on_path, stack = [], set(), [(start, iter(_in_place(schema, start, anchors)))]
        on_path.add(start)
        path.append(start)
        while stack:
            pointer, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(pointer)
                path.pop()
                done.add(pointer)
            elif child in on_path:
                node = _resolve(schema, pointer)
                cycles.append(f"{pointer}/$ref" if isinstance(node, dict) and "$ref" in node else pointer)
            elif child not in done:
                on_path.add(child)
                path.append(child)
                stack.append((child, iter(_in_place(schema, child, anchors))))
    return sorted(set(cycles))


def _ref_holders(node, pointer=""):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield pointer
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _ref_holders(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _ref_holders(value, f"{pointer}/{index}")
