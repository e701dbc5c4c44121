"""Readable differences between two states of a draft, or a draft and the live connector: scopes added
or removed, tools moved between scopes, firearm decisions changed, and plain field changes.

Each entry: {"area", "change", "path", "summary", "before", "after", "details"}; `summary` is the
sentence people read, `details` what changed inside the entry's object, field by field (see
`details.py`): a tool's schema properties and annotation hints, a scope's firearm or KPI decision.
"""

from django.template.defaultfilters import pluralize

from workbench.contract import named, strings
from workbench.kit.jsontext import same_json

from ..drafts import live_connector_snapshot
from .details import MISSING, detail, field_detail, plain_details, schema_details

NOT_DECIDED = object()
SPEC_FIELDS = ("name", "version", "description")
TOOL_FIELDS = ("title", "description", "inputSchema", "outputSchema", "annotations")


def _entry(area, change, path, summary, before=None, after=None, details=None):
    return {
        "area": area,
        "change": change,
        "path": path,
        "summary": summary,
        "before": before,
        "after": after,
        "details": details or [],
    }


def _dict(value):
    return value if isinstance(value, dict) else {}


def _by_name(items):
    return {item["name"]: item for item in named(items)}


def _decision(value):
    return "NONE" if value is None else value


def _field_changes(before, after):
    out = []
    for field in ("stage", "status"):
        if field in before and field in after and before[field] != after[field]:
            out.append(
                _entry(
                    "draft",
                    "changed",
                    field,
                    f"{field} {before[field]} -> {after[field]}",
                    before[field],
                    after[field],
                )
            )
    old, new = _dict(before.get("spec_snapshot")), _dict(after.get("spec_snapshot"))
    for field in SPEC_FIELDS:
        if (old.get(field) or "") != (new.get(field) or ""):
            out.append(
                _entry(
                    "spec",
                    "changed",
                    f"spec_snapshot.{field}",
                    f"{field} {old.get(field)!r} -> {new.get(field)!r}",
                    old.get(field),
                    new.get(field),
                )
            )
    for section in ("packaging", "portability", "metadata"):
        old_section, new_section = _dict(old.get(section)), _dict(new.get(section))
        for key in sorted(set(old_section) | set(new_section)):
            if old_section.get(key) != new_section.get(key):
                out.append(
                    _entry(
                        "spec",
                        "changed",
                        f"spec_snapshot.{section}.{key}",
                        f"{section} {key} {old_section.get(key)!r} -> {new_section.get(key)!r}",
                        old_section.get(key),
                        new_section.get(key),
                    )
                )
    return out


def _tool_changes(old_tools, new_tools):
    out = []
    for name in sorted(set(new_tools) - set(old_tools)):
        out.append(_entry("tools", "added", f"tools.{name}", f"tool {name} added", after=new_tools[name]))
    for name in sorted(set(old_tools) - set(new_tools)):
        out.append(
            _entry("tools", "removed", f"tools.{name}", f"tool {name} removed", before=old_tools[name])
        )
    for name in sorted(set(old_tools) & set(new_tools)):
        old, new = old_tools[name], new_tools[name]
        changed = [f for f in TOOL_FIELDS if not same_json(old.get(f), new.get(f))]
        if changed:
            out.append(
                _entry(
                    "tools",
                    "changed",
                    f"tools.{name}",
                    f"tool {name}: {', '.join(changed)} changed",
                    {f: old.get(f) for f in changed},
                    {f: new.get(f) for f in changed},
                    _tool_details(old, new, changed),
                )
            )
    return out


def _tool_details(old, new, changed):
    out = []
    for field in changed:
        if field in ("inputSchema", "outputSchema"):
            out.extend(schema_details(old.get(field, MISSING), new.get(field, MISSING), field))
        elif field == "annotations":
            out.extend(plain_details(old.get(field), new.get(field), field))
        else:
            out.extend(field_detail(old.get(field), new.get(field), field))
    return out


def _scope_changes(old_scopes, new_scopes):
    out = []
    for name in sorted(set(new_scopes) - set(old_scopes)):
        tools = strings(new_scopes[name].get("tools"))
        out.append(
            _entry(
                "scopes",
                "added",
                f"scopes.{name}",
                f"scope {name} added with {len(tools)} tool{pluralize(len(tools))}",
                after=new_scopes[name],
            )
        )
    for name in sorted(set(old_scopes) - set(new_scopes)):
        out.append(
            _entry("scopes", "removed", f"scopes.{name}", f"scope {name} removed", before=old_scopes[name])
        )
    for name in sorted(set(old_scopes) & set(new_scopes)):
        old, new = old_scopes[name].get("description", ""), new_scopes[name].get("description", "")
        if old != new:
            out.append(
                _entry(
                    "scopes",
                    "changed",
                    f"scopes.{name}.description",
                    f"scope {name}: description changed",
                    old,
                    new,
                )
            )
    # Where each tool was granted, before and after, to tell a move from an add or a removal.
    left, joined = {}, {}
    for name in sorted(set(old_scopes) & set(new_scopes)):
        old_tools = set(strings(old_scopes[name].get("tools")))
        new_tools = set(strings(new_scopes[name].get("tools")))
        for tool in old_tools - new_tools:
            left.setdefault(tool, []).append(name)
        for tool in new_tools - old_tools:
            joined.setdefault(tool, []).append(name)
    for name in sorted(set(new_scopes) - set(old_scopes)):
        for tool in strings(new_scopes[name].get("tools")):
            joined.setdefault(tool, []).append(name)
    for name in sorted(set(old_scopes) - set(new_scopes)):
        for tool in strings(old_scopes[name].get("tools")):
            left.setdefault(tool, []).append(name)
    for tool in sorted(set(left) | set(joined)):
        sources, targets = left.get(tool, []), joined.get(tool, [])
        if sources and targets:
            out.append(
                _entry(
                    "scopes",
                    "moved",
                    f"tools.{tool}",
                    f"tool {tool} moved from {', '.join(sources)} to {', '.join(targets)}",
                    sources,
                    targets,
                )
            )
            continue
        for scope in targets:
            if scope in old_scopes:
                out.append(
                    _entry(
                        "scopes",
                        "added",
                        f"scopes.{scope}.tools",
                        f"tool {tool} added to scope {scope}",
                        after=tool,
                    )
                )
        for scope in sources:
            if scope in new_scopes:
                out.append(
                    _entry(
                        "scopes",
                        "removed",
                        f"scopes.{scope}.tools",
                        f"tool {tool} removed from scope {scope}",
                        before=tool,
                    )
                )
    return out


def _firearm_changes(old_policy, new_policy, scope_names):
    out = []
    old, new = _dict(old_policy.get("firearms")), _dict(new_policy.get("firearms"))
    for scope in sorted(set(old) | set(new) | set(scope_names)):
        before, after = old.get(scope, NOT_DECIDED), new.get(scope, NOT_DECIDED)
        if before == after:
            continue
        path = f"firearms.{scope}"
        # Values as policy_snapshot holds them (null is NONE); a side with no decision is null too, and
        # the change tells them apart: added (none before), removed (none after), changed (both).
        shown_before = None if before is NOT_DECIDED else before
        shown_after = None if after is NOT_DECIDED else after
        if after is NOT_DECIDED:
            if scope in scope_names:
                summary = f"firearm decision of scope {scope} dropped (was {_decision(before)})"
            else:
                summary = f"firearm decision of removed scope {scope} dropped (was {_decision(before)})"
            change = "removed"
        elif before is NOT_DECIDED:
            summary, change = f"scope {scope}: firearm decided {_decision(after)}", "added"
        elif after is None:
            # A decision both sides made, changed (to NONE, or from it below): not an addition or a
            # removal of the decision.
            summary, change = f"firearm removed from scope {scope} (was {before})", "changed"
        elif before is None:
            summary, change = f"firearm {after} added to scope {scope} (was NONE)", "changed"
        else:
            summary, change = f"firearm of scope {scope} changed from {before} to {after}", "changed"
        aspect = detail(
            path, change, "firearm", summary, shown_before, shown_after
        )
        out.append(_entry("firearms", change, path, summary, shown_before, shown_after, [aspect]))
    return out


def _kpi_changes(old_policy, new_policy):
    out = []
    old, new = _dict(old_policy.get("kpis")), _dict(new_policy.get("kpis"))
    for scope in sorted(set(old) | set(new)):
        before, after = set(strings(old.get(scope))), set(strings(new.get(scope)))
        for kpi in sorted(after - before):
            summary = f"KPI {kpi} added to scope {scope}"
            aspect = detail(f"kpis.{scope}", "added", "kpi", summary, after=kpi)
            out.append(_entry("kpis", "added", f"kpis.{scope}", summary, after=kpi, details=[aspect]))
        for kpi in sorted(before - after):
            summary = f"KPI {kpi} removed from scope {scope}"
            aspect = detail(f"kpis.{scope}", "removed", "kpi", summary, before=kpi)
            out.append(_entry("kpis", "removed", f"kpis.{scope}", summary, before=kpi, details=[aspect]))
    return out


def diff_states(before, after):
    """Entries turning `before` into `after`: dicts of spec_snapshot, policy_snapshot (and stage, status)."""
    before, after = before or {}, after or {}
    old_spec, new_spec = _dict(before.get("spec_snapshot")), _dict(after.get("spec_snapshot"))
    old_policy, new_policy = _dict(before.get("policy_snapshot")), _dict(after.get("policy_snapshot"))
    new_scopes = _by_name(new_spec.get("scopes"))
    if not old_spec and new_spec:
        # Nothing live yet: one line for the tools instead of one per tool; scopes and decisions in full.
        tools = named(new_spec.get("tools"))
        first = _entry(
            "spec",
            "added",
            "spec_snapshot",
            f"first version {new_spec.get('version')} of a new connector, with {len(tools)} "
            f"tool{pluralize(len(tools))}",
            after=new_spec.get("version"),
        )
        return (
            [first]
            + _scope_changes({}, new_scopes)
            + _firearm_changes(old_policy, new_policy, set(new_scopes))
            + _kpi_changes(old_policy, new_policy)
        )
    return (
        _field_changes(before, after)
        + _tool_changes(_by_name(old_spec.get("tools")), _by_name(new_spec.get("tools")))
        + _scope_changes(_by_name(old_spec.get("scopes")), new_scopes)
        + _firearm_changes(old_policy, new_policy, set(new_scopes))
        + _kpi_changes(old_policy, new_policy)
    )


def draft_diff_against_live(draft, live=None):
    """Entries from the live connector (latest published version and today's bindings) to the draft.
    `live`: that connector's (spec_snapshot, policy_snapshot) when the caller has read it already (see
    `live_snapshots`), else read here."""
    live_spec, live_policy = live if live is not None else live_connector_snapshot(draft.connector_id)
    current = {"spec_snapshot": draft.spec_snapshot, "policy_snapshot": draft.policy_snapshot}
    return diff_states({"spec_snapshot": live_spec or {}, "policy_snapshot": live_policy or {}}, current)
