"""The side-by-side rows the diff, restore preview and publish confirmation pages show: one row per
change, or per detail of a changed object (a schema property's type, an annotation hint), with the
before and after values as short text."""

import json

from workbench.selectors.drafts import draft_revision_numbers

#: The longest value shown in a cell; the API's diff carries the whole value.
SHOWN = 400
LABELS = {"added": "added", "removed": "removed", "changed": "changed", "moved": "moved"}
SIDES = ("before", "after")


def shown(value):
    """A value as a cell shows it: strings as they are, the rest as JSON, cut at SHOWN characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def decision_shown(value, change, side):
    """A firearm decision as a cell shows it: null is NONE (as the card says), except on the side a
    decision was added to or removed from, which had none."""
    absent = (change, side) in (("added", "before"), ("removed", "after"))
    return "NONE" if value is None and not absent else shown(value)


def _cells(item, decision):
    """{"before", "after"}: the cells of an entry or a detail; `decision` when it is a firearm decision."""
    if decision:
        return {side: decision_shown(item[side], item["change"], side) for side in SIDES}
    return {side: shown(item[side]) for side in SIDES}


def diff_rows(changes):
    """[{entry, rows}] for the template: each entry with its detail rows (the entry itself when it has
    none), each row {change, label, what, before, after}."""
    out = []
    for entry in changes:
        details = entry.get("details") or []
        if details and not (len(details) == 1 and details[0]["summary"] == entry["summary"]):
            rows = [
                {
                    "change": item["change"],
                    "label": LABELS.get(item["change"], item["change"]),
                    "what": item["path"],
                    "note": item["summary"],
                    **_cells(item, item["aspect"] == "firearm"),
                }
                for item in details
            ]
        else:
            rows = [
                {
                    "change": entry["change"],
                    "label": LABELS.get(entry["change"], entry["change"]),
                    "what": entry["path"],
                    "note": "",
                    **_cells(entry, entry["area"] == "firearms"),
                }
            ]
        out.append({"entry": entry, "rows": rows, "grouped": len(rows) > 1 or bool(rows[0]["note"])})
    return out


def side_choices(draft):
    """The from/to choices of a comparison: live, then every revision of the draft."""
    return [("live", "live (published)")] + [
        (str(number), f"revision {number}" + (" (current)" if number == draft.revision else ""))
        for number in draft_revision_numbers(draft)
    ]
