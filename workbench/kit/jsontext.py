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

from django.conf import settings

from workbench.kit.refusals import Refusal, field_error


def _problem(code, path, message):
    return Refusal(400, code, message, errors=[field_error(path, code, message)])


def json_path(path):
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def max_depth():
    return settings.WORKBENCH_API_MAX_JSON_DEPTH


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


def check_text(text, path=()):
    if "\x00" in text:
        raise _problem("null_character", json_path(path), "Text must not contain NUL (\\u0000) characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _problem(
            "lone_surrogate",
            json_path(path),
            "Text must not contain unpaired UTF-16 surrogates (e.g. \\ud800).",
        ) from None


def _no_constant(name):
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not a JSON number")


def loads(data, *, what="The body"):
    """bytes (UTF-8, BOM allowed) or str -> the JSON value, checked; a 400 Refusal otherwise."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise _problem("malformed_json", "$", f"{what} is not UTF-8 (byte {error.start}).") from None
    except RecursionError:
        raise _problem("too_deep", "$", f"JSON nested deeper than {max_depth()} levels.") from None
    except ValueError as error:
        raise _problem("malformed_json", "$", f"{what} is not JSON: {error}.") from None
    return check_json(value)
