"""Saving and deleting one registry or policy row: the single write path the admin, the API and
the commands share for plain records (richer writes have services of their own)."""

from django.db import transaction

# simple-history's history_change_reason column is a CharField(max_length=100): PostgreSQL refuses longer.
CHANGE_REASON_LENGTH = 100


def _mark_reason(instance, reason):
    if reason:
        instance._change_reason = reason[:CHANGE_REASON_LENGTH]


def row_save(*, instance, reason=""):
    """Validate (full_clean) and save one row in a transaction; `reason` lands on its history row
    (cut to the history column's width, so a long reason never fails the save)."""
    with transaction.atomic():
        instance.full_clean()
        _mark_reason(instance, reason)
        instance.save()
    return instance


def row_delete(*, instance, reason=""):
    with transaction.atomic():
        _mark_reason(instance, reason)
        instance.delete()
