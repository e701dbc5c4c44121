"""Engaging and releasing strategy locks; each change is a history row with who and why."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from policies.models import StrategyLock
from workbench.services.rows import row_save


def _set_state(*, lock, engaged, user, reason):
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why."})
    with transaction.atomic():
        lock = StrategyLock.objects.select_for_update().get(pk=lock.pk)
        if lock.engaged == engaged:
            state = "engaged" if engaged else "released"
            raise ValidationError({"engaged": f"The lock is already {state}."}, code="no_change")
        lock.engaged = engaged
        lock.engaged_at = timezone.now() if engaged else None
        lock.engaged_by = user if engaged else None
        lock.reason = reason
        return row_save(instance=lock, reason=f"{'engaged' if engaged else 'released'}: {reason}")


def strategy_lock_engage(*, lock, user, reason):
    """Engage a lock: calls it covers are refused until it is released."""
    return _set_state(lock=lock, engaged=True, user=user, reason=reason)


def strategy_lock_release(*, lock, user, reason):
    return _set_state(lock=lock, engaged=False, user=user, reason=reason)
