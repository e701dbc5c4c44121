"""Publish's binding writers: the live firearm and KPI bindings of a connector's scopes set as its newest
version (or a seed correction, workbench/services/environments/corrections.py) decides, with a history
row for every binding created, changed or removed, in a number of queries that grows with neither the
scopes nor the bindings."""

from django.conf import settings
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from policies.models import Firearm, FirearmBinding, KpiDefinition, KpiToolBinding
from registries.models import Scope
from workbench.kit.rows import history_reason


def _scope_actions(draft):
    return {
        f"{draft.connector_id}:{item['name']}": item["name"]
        for item in draft.spec_snapshot.get("scopes") or []
    }


def _dropped_scope_actions(draft, connector):
    """`<connector_id>:<scope>` actions of scopes the previous latest version had and this one drops:
    their firearm and KPI bindings go with them, or a dropped scope would stay bound (or, re-added in
    a later version, come back with a stale firearm)."""
    if connector is None or connector.latest_spec_id is None:
        return set()
    previous = Scope.objects.filter(spec_id=connector.latest_spec_id).values_list("name", flat=True)
    return {f"{draft.connector_id}:{name}" for name in previous} - set(_scope_actions(draft))


def _delete_with_history(model, removals, user):
    """Delete the bindings of `removals` ((binding, reason) pairs) leaving, for each, the history row
    simple-history's delete signal would write (type "-", `user`, the reason cut to its column, the
    row as it was), in a fixed number of queries: one batch of history rows, one DELETE."""
    if not removals:
        return
    history = model.history.model
    # As the signal does: no history row at all while simple-history is switched off.
    if getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        history.objects.bulk_create(
            [
                history(
                    history_date=timezone.now(),
                    history_type="-",
                    # No user (a seed load): whoever the request middleware names, as the signal would.
                    history_user=user if user is not None else history.get_default_history_user(binding),
                    history_change_reason=history_reason(reason) or None,
                    **{field.attname: getattr(binding, field.attname) for field in history.tracked_fields},
                )
                for binding, reason in removals
            ]
        )
    # A plain queryset delete would send the delete signals row by row (a history row each); nothing
    # points at a binding (no cascade to follow; a test keeps it so), so one direct DELETE does it.
    model.objects.filter(pk__in=[binding.pk for binding, _ in removals])._raw_delete(model.objects.db)


def _write_firearm_bindings(draft, user, now, dropped=frozenset(), reason=None):
    actions = _scope_actions(draft)
    decisions = (draft.policy_snapshot or {}).get("firearms") or {}
    wanted = {action: decisions.get(name) for action, name in actions.items()}
    firearms = Firearm.objects.in_bulk([f for f in wanted.values() if f], field_name="firearm_id")
    existing = {
        binding.action_name: binding
        for binding in FirearmBinding.objects.filter(action_name__in=set(actions) | set(dropped))
    }
    # A seed correction (workbench/services/environments/corrections.py) names its own reason.
    reason = reason or f"published {draft.connector_id} {draft.spec_snapshot['version']} from {draft.pk}"
    to_create, to_update, to_delete = [], [], []
    for action, firearm_id in wanted.items():
        binding = existing.get(action)
        if firearm_id is None:
            if binding is not None:
                to_delete.append(binding)
        elif binding is None:
            to_create.append(
                FirearmBinding(
                    action_name=action,
                    firearm=firearms[firearm_id],
                    note=reason,
                    created_at=now,
                )
            )
        elif binding.firearm_id != firearms[firearm_id].pk:
            binding.firearm = firearms[firearm_id]
            binding.note = reason
            to_update.append(binding)
    for binding in to_create + to_update:
        binding.action_known = True  # its scope was written a moment ago, in this transaction
        binding.full_clean(exclude=["firearm"], validate_unique=False, validate_constraints=False)
    bulk_create_with_history(
        to_create, FirearmBinding, default_user=user, default_change_reason=history_reason(reason)
    )
    bulk_update_with_history(
        to_update,
        FirearmBinding,
        ["firearm", "note"],
        default_user=user,
        default_change_reason=history_reason(reason),
    )
    # An explicit NONE decision removes the binding; so does dropping the scope.
    _delete_with_history(
        FirearmBinding,
        [(binding, f"NONE decided: {reason}") for binding in to_delete]
        + [
            (existing[action], f"scope dropped: {reason}") for action in sorted(dropped) if action in existing
        ],
        user,
    )


def _write_kpi_bindings(draft, user, now, dropped=frozenset(), reason=None):
    actions = _scope_actions(draft)
    kpis_by_scope = (draft.policy_snapshot or {}).get("kpis") or {}
    wanted = {
        (action, kpi_id) for action, name in actions.items() for kpi_id in kpis_by_scope.get(name) or []
    }
    kpis = KpiDefinition.objects.in_bulk({kpi_id for _, kpi_id in wanted}, field_name="kpi_id")
    existing = {
        (binding.action_name, binding.kpi.kpi_id): binding
        for binding in KpiToolBinding.objects.filter(
            action_name__in=set(actions) | set(dropped)
        ).select_related("kpi")
    }
    reason = history_reason(
        reason or f"published {draft.connector_id} {draft.spec_snapshot['version']} from {draft.pk}"
    )
    to_create = [
        KpiToolBinding(action_name=action, kpi=kpis[kpi_id], note=reason, created_at=now)
        for action, kpi_id in sorted(wanted - set(existing))
    ]
    for binding in to_create:
        binding.action_known = True
        binding.full_clean(exclude=["kpi"], validate_unique=False, validate_constraints=False)
    bulk_create_with_history(to_create, KpiToolBinding, default_user=user, default_change_reason=reason)
    # Bindings of dropped scopes are in `existing` but never wanted, so they go here too.
    _delete_with_history(
        KpiToolBinding,
        [(existing[key], f"KPI removed: {reason}") for key in sorted(set(existing) - wanted)],
        user,
    )
