"""Risk flags of the publish confirmation: what a publisher should look at twice, read from the diff
against live and today's firearm grants."""

from django.db.models import Count

from workbench.contract import is_destructive, is_read_only, named, strings

from ..drafts import live_connector_snapshot
from ..live_connectors import live_connectors
from .entries import diff_states


def _dict(value):
    return value if isinstance(value, dict) else {}


def _by_name(items):
    return {item["name"]: item for item in named(items)}


def active_grant_counts(firearm_ids):
    """{firearm_id: (active grants, tenants they are in)} for the firearms named (one query)."""
    from policies.models import FirearmGrant

    rows = (
        FirearmGrant.objects.active()
        .filter(firearm__firearm_id__in=firearm_ids)
        .values("firearm__firearm_id")
        .annotate(grants=Count("pk"), tenants=Count("tenant", distinct=True))
        .order_by()
    )
    return {row["firearm__firearm_id"]: (row["grants"], row["tenants"]) for row in rows}


def _grants(counts, firearm_id):
    grants, tenants = counts.get(firearm_id, (0, 0))
    if not grants:
        return f"no active grant of {firearm_id}"
    plural = "s" if grants != 1 else ""
    return f"{grants} active grant{plural} of {firearm_id} in {tenants} tenant{'s' if tenants != 1 else ''}"


def _changed_firearms(live_policy, policy, live_scopes):
    """[(scope, firearm before or None, firearm after)] of live scopes that get a firearm or another one."""
    old, new = _dict(live_policy.get("firearms")), _dict(policy.get("firearms"))
    return [
        (scope, old.get(scope), new.get(scope))
        for scope in sorted(set(old) & set(new) & set(live_scopes))
        if old.get(scope) != new.get(scope) and new.get(scope) is not None
    ]


def _firearm_flags(connector_id, changed, counts):
    """A scope whose firearm changes (X to Y, or NONE to Y) and what that does to today's grants: a grant
    is of a firearm, and a scope bound to a firearm opens to whoever holds an active grant of it."""
    flags = []
    for scope, before, after in changed:
        if before is None:
            flags.append(
                f"scope {scope} now needs firearm {after} (was NONE): callers without a grant of it lose "
                f"access ({_grants(counts, after)})"
            )
            continue
        flags.append(f"firearm of scope {scope} changed from {before} to {after}")
        flags.append(
            f"grants of {before} no longer open {connector_id}:{scope} ({_grants(counts, before)}); callers "
            f"need a grant of {after} ({_grants(counts, after)})"
        )
    return flags


def _tool_flags(live_tools, tools):
    flags = []
    for name in sorted(set(live_tools) & set(tools)):
        before, after = live_tools[name], tools[name]
        if is_destructive(after) and not is_destructive(before):
            flags.append(f"tool {name} becomes destructive (its annotations no longer say otherwise)")
        if is_read_only(before) and not is_read_only(after):
            flags.append(f"tool {name} is no longer read-only")
    return flags


def _scope_gains(live_scopes, scopes, firearms):
    flags = []
    for name in sorted(set(live_scopes) & set(scopes)):
        firearm = firearms.get(name)
        if firearm is None:
            continue
        gained = [
            tool
            for tool in strings(scopes[name].get("tools"))
            if tool not in strings(live_scopes[name].get("tools"))
        ]
        if gained:
            listed = ", ".join(gained[:5]) + (" …" if len(gained) > 5 else "")
            them = "them" if len(gained) > 1 else "it"
            flags.append(
                f"scope {name} gains {listed} while it has firearm {firearm}: everyone granted {firearm} "
                f"can call {them}"
            )
    return flags


def live_snapshots(drafts):
    """{connector_id: (spec_snapshot, policy_snapshot)} live for the drafts' connectors ((None, None)
    when unpublished), as live_connector_snapshot gives them, read in a fixed number of queries."""
    found = live_connectors({draft.connector_id for draft in drafts})
    return {
        draft.connector_id: (found[draft.connector_id].spec, found[draft.connector_id].policy)
        if draft.connector_id in found
        else (None, None)
        for draft in drafts
    }


def publish_risk_flags_of(drafts, lives=None):
    """{draft pk: its publish_risk_flags} for several drafts in a fixed number of queries: the live
    connectors (`lives`, from `live_snapshots`, read here unless given) and the grants read once."""
    drafts = list(drafts)
    lives = lives if lives is not None else live_snapshots(drafts)
    changed = {}
    for draft in drafts:
        live_spec, live_policy = lives[draft.connector_id]
        changed[draft.pk] = _changed_firearms(
            _dict(live_policy),
            _dict(draft.policy_snapshot),
            _by_name(_dict(live_spec).get("scopes")),
        )
    wanted = {firearm for rows in changed.values() for _, *pair in rows for firearm in pair if firearm}
    counts = active_grant_counts(wanted) if wanted else {}
    return {draft.pk: _flags(draft, lives[draft.connector_id], changed[draft.pk], counts) for draft in drafts}


def publish_risk_flags(draft, live=None):
    """What a publisher should look at twice before confirming (sentences, most serious first). `live`:
    the connector's live (spec_snapshot, policy_snapshot) when already read."""
    if live is None:
        live = live_connector_snapshot(draft.connector_id)
    return publish_risk_flags_of([draft], {draft.connector_id: live})[draft.pk]


def _flags(draft, live, changed, counts):
    flags = []
    spec, policy = _dict(draft.spec_snapshot), _dict(draft.policy_snapshot)
    tools = _by_name(spec.get("tools"))
    scopes = _by_name(spec.get("scopes"))
    firearms = _dict(policy.get("firearms"))
    for scope in scopes.values():
        name = scope.get("name")
        if firearms.get(name) is None:
            destructive = [t for t in strings(scope.get("tools")) if t in tools and is_destructive(tools[t])]
            if destructive:
                flags.append(
                    f"destructive tool in a scope without a firearm: {name} ({', '.join(destructive[:5])})"
                )
    live_spec, live_policy = live
    live_spec, live_policy = live_spec or {}, live_policy or {}
    for entry in diff_states(
        {"spec_snapshot": live_spec, "policy_snapshot": live_policy},
        {"spec_snapshot": spec, "policy_snapshot": policy},
    ):
        # A firearm (not NONE: null) before, none after: set to NONE, or its decision dropped.
        if entry["area"] == "firearms" and entry["before"] is not None and entry["after"] is None:
            flags.append(
                f"firearm removed from scope {entry['path'].split('.', 1)[1]} (was {entry['before']})"
            )
        if entry["area"] == "scopes" and entry["change"] == "removed" and entry["path"].count(".") == 1:
            flags.append(f"scope {entry['path'].split('.', 1)[1]} removed: callers granted it lose access")
    live_scopes = _by_name(live_spec.get("scopes"))
    flags += _firearm_flags(draft.connector_id, changed, counts)
    flags += _scope_gains(live_scopes, scopes, firearms)
    flags += _tool_flags(_by_name(live_spec.get("tools")), tools)
    return flags
