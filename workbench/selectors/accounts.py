"""Accounts: whether django-axes holds a username locked out now."""

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def username_failures(username):
    """The failed sign-ins counted for `username` within the cool-off, from every address."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    counted = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return counted.aggregate(total=Sum("failures_since_start"))["total"] or 0


def username_locked_out(username):
    """Whether `username` has reached the failure limit (AXES_FAILURE_LIMIT) within the cool-off."""
    return username_failures(username) >= settings.AXES_FAILURE_LIMIT
