"""JSON text in, refused whole when it holds what the rest of the system cannot take: one loader for the
API's parser, the tool registry file and anything else a client can hand over.

Refused as a 400 Refusal naming the JSON path where one exists:
- text that is not UTF-8 or not JSON, NaN and Infinity included (`malformed_json`);
- nesting deeper than `WORKBENCH_API_MAX_JSON_DEPTH` (`too_deep`): jsonschema, serializers and the database
  all recurse, and a 10,000-deep array would exhaust the interpreter's stack;
- a NUL character (`null_character`, PostgreSQL text and jsonb cannot store one) or an unpaired UTF-16
  surrogate such as "\\ud800" (`lone_surrogate`, it cannot be encoded as UTF-8) in any key or string.
"""

import json
import math

from django.conf import settings

from workbench.kit.refusals import Refusal, field_error


def _problem(code, path, message):
    return Refusal(400, code, message, errors=[field_error(path, code, message)])


def json_path(path):
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def max_depth():
    return settings.WORKBENCH_API_MAX_JSON_DEPTH


def unstorable_text(value):
    """(path parts, code, message) for every key or string of `value` PostgreSQL cannot store: a NUL
    character or an unpaired surrogate. Iterative, so any depth is walked."""
    stack = [(value, ())]
    while stack:
        node, path = stack.pop()
        texts = [node] if isinstance(node, str) else list(node) if isinstance(node, dict) else []
        for text in texts:
            problem = _text_problem(text)
            if problem:
                yield (path, *problem)
        if isinstance(node, dict):
            stack.extend((child, (*path, key)) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in reversed(list(enumerate(node))))


def _text_problem(text):
    if "\x00" in text:
        return "null_character", "Text must not contain NUL (\\u0000) characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone_surrogate", "Text must not contain unpaired UTF-16 surrogates (e.g. \\ud800)."
    return None


def check_text(text, path=()):
    problem = _text_problem(text)
    if problem:
        raise _problem(problem[0], json_path(path), problem[1])


def check_json(value, *, depth_limit=None):
    """Walk a parsed JSON value without recursion; refuse depth, NUL and lone surrogates by path."""
    depth_limit = depth_limit or max_depth()
    stack = [(value, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > depth_limit:
            raise _problem("too_deep", json_path(path), f"JSON nested deeper than {depth_limit} levels.")
        if isinstance(node, str):
            check_text(node, path)
        elif isinstance(node, dict):
            for key, child in node.items():
                check_text(key, path)
                stack.append((child, (*path, key), depth + 1))
        elif isinstance(node, list):
            stack.extend((child, (*path, index), depth + 1) for index, child in enumerate(node))
    return value


def _no_constant(name):
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not a JSON number")


def _finite(text):
    # 1e400 would parse as infinity, which nothing downstream can store or compare.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of range for a number")
    return value


def loads(data, *, what="The body"):
    """bytes (UTF-8, BOM allowed) or str -> the JSON value, checked; a 400 Refusal otherwise."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as error:
        raise _problem("malformed_json", "$", f"{what} is not UTF-8 (byte {error.start}).") from None
    except RecursionError:
        raise _problem("too_deep", "$", f"JSON nested deeper than {max_depth()} levels.") from None
    except ValueError as error:
        raise _problem("malformed_json", "$", f"{what} is not JSON: {error}.") from None
    return check_json(value)


def list_index(part):
    """A JSON Pointer or dotted-path segment as a list index: ASCII digits only (str.isdigit() takes "²",
    which int() refuses), else None."""
    return int(part) if part.isascii() and part.isdigit() else None


def same_json(a, b):
    """Whether two decoded JSON values are the same document. Python's == takes 1 == True == 1.0, which
    JSON does not (`1`, `true` and `1.0` are different values): equal by == and of the same types
    throughout."""
    return a == b and _same_types(a, b)


def _same_types(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(value, b[key]) for key, value in a.items())
    if isinstance(a, (list, tuple)):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True
