"""Saving and deleting one registry or policy row: the single write path the admin, the API and the
commands share for plain records (richer writes have services of their own), and the history reason
every write leaves."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.dispatch import Signal

from workbench.kit import access
from workbench.kit.refusals import Refusal, field_error

#: Sent inside a write's transaction, once per row `row_save` or `row_delete` writes and once per import
#: that writes many rows (`announce_write`): the audit trail records the platform-scope ones, so a write
#: and its security event commit or roll back together. Arguments: actor, instance (None for an import),
#: action ("add", "change", "delete", "import"), reason, detail, platform (a platform staff's write of a
#: row whose scope is not the platform's).
row_written = Signal()

# simple-history's history_change_reason column is a CharField(max_length=100): PostgreSQL refuses longer.
HISTORY_REASON_LENGTH = 100


def history_reason(reason):
    """`reason` as it fits the history column: stripped, cut to its 100 characters ("" for none), without
    control characters or unpaired surrogates (a header can carry them; the column cannot store a NUL)."""
    text = str(reason or "")
    if not text.isprintable():  # a whole printable text (the usual one) needs no walk character by character
        text = "".join(c for c in text if c.isprintable() or c.isspace())
    text = " ".join(text.split())
    if len(text) <= HISTORY_REASON_LENGTH:
        return text
    return text[: HISTORY_REASON_LENGTH - 1] + "…"


def mark_history(instance, *, user=None, reason=""):
    """Who and why for the history row the next save or delete of `instance` writes."""
    if user is not None:
        instance._history_user = user
    reason = history_reason(reason)
    if reason:
        instance._change_reason = reason


def row_save(*, instance, user, reason="", exclude=None):
    """Validate (full_clean) and save one row in a transaction, if `user` may (the access gate: the
    model permission and the row's scope; `access.SYSTEM` for environment loads). `reason` (cut to the
    history column) and `user` land on its history row. A row the model refuses is a 400 Refusal naming
    each field; a write the user may not make a 403 Refusal saying why."""
    with transaction.atomic():
        action = "add" if instance._state.adding else "change"
        access.check_write(user, instance, action)
        try:
            instance.full_clean(exclude=exclude)
        except ValidationError as error:
            raise Refusal.from_validation_error(error) from error
        mark_history(instance, user=None if user is access.SYSTEM else user, reason=reason)
        instance.save()
        announce_write(actor=user, model=type(instance), instance=instance, action=action, reason=reason)
    return instance


def row_delete(*, instance, user, reason=""):
    """Delete one row in a transaction, if `user` may. A row other rows still point at (PROTECT/RESTRICT)
    is a 409 `protected` naming what uses it; a row that is never deleted (write-once) a 409 `immutable`."""
    try:
        with transaction.atomic():
            access.check_write(user, instance, "delete")
            mark_history(instance, user=None if user is access.SYSTEM else user, reason=reason)
            # Announced before the delete, while the row still has its key; a refused delete rolls back both.
            announce_write(
                actor=user, model=type(instance), instance=instance, action="delete", reason=reason
            )
            instance.delete()
    except (ProtectedError, RestrictedError) as error:
        raise protected_refusal(error) from error
    except ValidationError as error:
        raise Refusal(409, "immutable", " ".join(error.messages)) from error


def announce_write(*, actor, model, action, instance=None, reason="", detail=None, platform=False):
    """Tell `row_written`'s listeners, in the caller's transaction, that `actor` wrote `model` rows.
    `platform`: the write is platform staff's although the row's scope is not (a connector's transfer)."""
    row_written.send(
        sender=model,
        actor=actor,
        instance=instance,
        action=action,
        reason=reason,
        detail=detail or {},
        platform=platform,
    )


def protected_refusal(error):
    """A delete refused because other rows still point at the row (on_delete=PROTECT/RESTRICT)."""
    blockers = error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects
    counts = {}
    for obj in blockers:
        name = obj._meta.verbose_name_plural
        counts[name] = counts.get(name, 0) + 1
    used_by = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return Refusal(
        409,
        "protected",
        f"Cannot delete: still used by {used_by}. Remove or change those first.",
        errors=[
            field_error(None, "protected", f"Used by {count} {name}.")
            for name, count in sorted(counts.items())
        ],
    )
