"""Accounts: unlocking a username that django-axes locked out after too many failed sign-ins."""

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.db import transaction

from workbench.kit.refusals import Refusal, field_error
from workbench.services.audit import Kind, audit_record
from workbench.tenancy.access import check_platform_write

#: Django's User keeps at most 150 characters of a username (axes' counted names are cut to it too).
USERNAME_LIMIT = 150


def account_unlock(*, user, username, request=None):
    """Clear every failed sign-in counted for `username` (from any address), so it signs in again at once,
    and record an `unlocked` security event. Platform staff holding `axes.delete_accessattempt` only.

    Returns how many failures were cleared (0: the username was not locked or counted at all; still
    recorded, an unlock asked for is an event). Addresses locked by failures under other usernames stay
    locked: `manage.py axes_reset_ip ADDRESS` clears those.
    """
    username = _checked_username(username)
    with transaction.atomic():
        check_platform_write(user, AccessAttempt, action="delete")
        # The rows locked first, so the count recorded is the count cleared, whatever fails meanwhile.
        attempts = AccessAttempt.objects.select_for_update().filter(username=username)
        failures = sum(attempts.values_list("failures_since_start", flat=True))
        AxesProxyHandler.reset_attempts(username=username)
        audit_record(
            kind=Kind.UNLOCKED, actor=user, subject=username, request=request,
            detail={"failures_cleared": failures},
        )
    return failures


def _checked_username(username):
    if not isinstance(username, str) or not username.strip():
        raise Refusal.invalid([field_error("username", "required", "Name the username to unlock.")])
    if len(username) > USERNAME_LIMIT or "\x00" in username:
        message = f"A username is at most {USERNAME_LIMIT} characters, without NUL."
        raise Refusal.invalid([field_error("username", "invalid", message)])
    return username
