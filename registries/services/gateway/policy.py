"""Admitting a new call: the policy checks a call must pass before it is charged and run.

A replay is answered before these (seed 002: "receipt exists for same call_id -> return existing
result"): it has no new effect, so nothing here applies to it. Each check is a selector of
`policies.selectors`, read at the moment of the call. The budget is not read here: the charge
(`policies.services.usage_charge`) reads it once, under its row locks, and refuses there (429).
"""

from policies import selectors as policy
from workbench.kit.refusals import Refusal


def with_bound_firearm(tools):
    """The tool rows with the firearm bound to each (`bound_firearm_pk`, `bound_firearm_key`), read in
    the same query as the tool."""
    return tools.annotate(**policy.bound_firearm_columns("name"))


def _bound_firearm(tool):
    """(pk, firearm_id) of the firearm bound to `tool`: from the tool row when it was read through
    `with_bound_firearm`, else one query."""
    if not hasattr(tool, "bound_firearm_pk"):
        tool = with_bound_firearm(type(tool).objects.filter(pk=tool.pk)).get()
    return tool.bound_firearm_pk, tool.bound_firearm_key or ""


def admit(tool, *, user, tenant):
    """Refuse a new call of `tool` for `user` and `tenant`: 403 firearm_required, 423 strategy_locked."""
    firearm_pk, firearm_id = _bound_firearm(tool)
    if firearm_pk is not None and not policy.holds_firearm(firearm=firearm_pk, user=user, tenant=tenant):
        raise Refusal(
            403,
            "firearm_required",
            f"{tool.name} needs the firearm {firearm_id}; ask for a grant.",
            firearm=firearm_id,
        )
    connector_id = tool.connector.connector_id if tool.connector_id else ""
    locks = policy.engaged_locks_covering(
        action_name=tool.name, connector_id=connector_id, firearm_id=firearm_id
    )
    if locks:
        lock = locks[0]
        raise Refusal(
            423,
            "strategy_locked",
            f"{tool.name} is locked by strategy lock {lock.name!r}: {lock.reason}",
            lock=lock.name,
        )
