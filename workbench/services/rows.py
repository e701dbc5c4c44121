"""Saving and deleting one registry or policy row: the single write path the admin, the API and
the commands share for plain records (richer writes have services of their own)."""

from django.db import transaction
from simple_history.utils import update_change_reason  # noqa: F401  (re-exported for callers)


def row_save(*, instance, reason=""):
    """Validate (full_clean) and save one row in a transaction; `reason` lands on its history row."""
    with transaction.atomic():
        instance.full_clean()
        if reason:
            instance._change_reason = reason
        instance.save()
    return instance


def row_delete(*, instance, reason=""):
    with transaction.atomic():
        if reason:
            instance._change_reason = reason
        instance.delete()
