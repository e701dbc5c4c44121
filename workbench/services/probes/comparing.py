"""A draft's declared tools against the ones its server serves: findings {path, severity, code, message}
under `probe.tools.<name>`, as validation shows them. A name or key that is not a plain word (a dot, a
space, a bracket in it) is written in brackets, `probe.tools["a.b"].inputSchema`, so a path names one
place only."""

import json
import re

from workbench.contract import finding, named
from workbench.kit.jsontext import same_json

#: Differences reported per tool and section; past that, the first ones say where to look.
DIFFERENCES_SHOWN = 5
COMPARED = (("inputSchema", "input schema"), ("annotations", "annotations"))
PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def member(key):
    """`.key`, or `["key"]` (JSON-quoted) for a key that is not a plain word."""
    key = str(key)
    return f".{key}" if PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key, ensure_ascii=False)}]"


def _differences(before, after, path):
    """JSON paths (as `a.b[0]`) where two decoded JSON values differ, depth first, at most
    DIFFERENCES_SHOWN of them."""
    found = []
    stack = [(before, after, path)]
    while stack and len(found) < DIFFERENCES_SHOWN:
        left, right, where = stack.pop()
        if isinstance(left, dict) and isinstance(right, dict):
            for key in sorted(set(left) | set(right), reverse=True):
                stack.append((left.get(key, _MISSING), right.get(key, _MISSING), f"{where}{member(key)}"))
        elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
            for index in reversed(range(len(left))):
                stack.append((left[index], right[index], f"{where}[{index}]"))
        elif left is _MISSING or right is _MISSING or not same_json(left, right):
            found.append((where, left, right))
    return found


class _Missing:
    def __repr__(self):
        return "absent"


_MISSING = _Missing()


def _shown(value):
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_tools(declared, served):
    """Findings: a declared tool the server does not serve and a served tool the draft does not declare
    (errors); an input schema or annotations that differ (a warning per JSON path where they do)."""
    declared_by_name = {tool["name"]: tool for tool in named(declared)}
    served_by_name = {tool["name"]: tool for tool in named(served)}
    found = []
    for name in declared_by_name:
        if name not in served_by_name:
            found.append(
                finding(
                    f"probe.tools{member(name)}",
                    f"The draft declares tool {name!r}, which the server does not serve.",
                    code="declared_not_served",
                )
            )
    for name in served_by_name:
        if name not in declared_by_name:
            found.append(
                finding(
                    f"probe.tools{member(name)}",
                    f"The server serves tool {name!r}, which the draft does not declare.",
                    code="served_not_declared",
                )
            )
    for name, tool in declared_by_name.items():
        live = served_by_name.get(name)
        if live is None:
            continue
        for key, what in COMPARED:
            before, after = tool.get(key, _MISSING), live.get(key, _MISSING)
            if before is not _MISSING and after is not _MISSING and same_json(before, after):
                continue
            if before is _MISSING and after is _MISSING:
                continue
            for where, left, right in _differences(before, after, f"probe.tools{member(name)}.{key}"):
                found.append(
                    finding(
                        where,
                        f"Tool {name!r}: the draft's {what} and the server's are not the same here: "
                        f"the draft has {_shown(left)}, the server {_shown(right)}.",
                        severity="warning",
                        code=f"{key.lower()}_differs",
                    )
                )
    return sorted(found, key=lambda item: item["severity"] != "error")
