"""Strategy locks: what a lock covers (its policy) and whether it is engaged (its state). The state
changes only through engage and release, each a history row with who and why; saving the policy never
touches the state."""

from django.db import transaction
from django.utils import timezone

from policies.models import StrategyLock
from workbench.kit import access
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal, field_error
from workbench.kit.rows import row_save

STATE_ATTNAMES = ("engaged", "engaged_at", "engaged_by_id", "reason")


def _locked(lock):
    current = StrategyLock.objects.select_for_update().filter(pk=lock.pk).first()
    if current is None:
        raise Refusal(404, "not_found", f"No strategy lock {lock.name!r}.")
    return current


def strategy_lock_update(*, lock, user=None, connectors=None, firearms=None, reason=""):
    """Create or save what `lock` covers (name, description, actions, and `connectors` / `firearms`
    when given), keeping its engaged state as stored: an engage or release that lands while an edit
    form is open survives the edit's save."""
    with transaction.atomic():
        if lock.pk is not None:
            current = _locked(lock)
            for attname in STATE_ATTNAMES:
                setattr(lock, attname, getattr(current, attname))
        elif lock.engaged:
            raise Refusal.invalid(
                [field_error("engaged", "invalid", "A new lock starts released; engage it with a reason.")]
            )
        row_save(instance=lock, user=user, reason=reason or "coverage saved")
        if connectors is not None:
            lock.connectors.set(connectors)
        if firearms is not None:
            lock.firearms.set(firearms)
    return lock


def _set_state(*, lock, engaged, user, reason):
    if not (reason or "").strip():
        raise Refusal.invalid([field_error("reason", "required", "Say why.")])
    with transaction.atomic():
        lock = _locked(lock)
        # Who may, before what state the lock is in: someone without access learns nothing from a 409.
        access.check_write(user, lock, "change")
        if lock.engaged == engaged:
            state = "engaged" if engaged else "released"
            raise Refusal(409, "no_change", f"The lock {lock.name} is already {state}.")
        lock.engaged = engaged
        lock.engaged_at = timezone.now() if engaged else None
        lock.engaged_by = user if engaged and user is not SYSTEM else None
        lock.reason = reason
        return row_save(instance=lock, user=user, reason=f"{'engaged' if engaged else 'released'}: {reason}")


def strategy_lock_engage(*, lock, user, reason):
    """Engage a lock: calls it covers are refused until it is released (409 `no_change` if engaged)."""
    return _set_state(lock=lock, engaged=True, user=user, reason=reason)


def strategy_lock_release(*, lock, user, reason):
    """Release a lock (409 `no_change` if it is not engaged)."""
    return _set_state(lock=lock, engaged=False, user=user, reason=reason)
