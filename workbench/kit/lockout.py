"""Login throttling with django-axes: the database handler that counts failed sign-ins, and the page a
locked-out sign-in gets (the admin's sign-in page saying why, 429 with Retry-After).

The counters are axes' AccessAttempt rows, one per username, IP address and User-Agent; a lockout is the
sum over a username's rows, or an address's, reaching `AXES_FAILURE_LIMIT` within `AXES_COOLOFF_TIME`.
axes' handler already increments under a row lock with an F() expression (select_for_update on the row,
the unique (username, ip_address, user_agent) key for the first failure), so concurrent failures on any
number of workers are all counted; tests/workbench/test_lockout_concurrency.py holds it to that.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import render

LOCKOUT_TEMPLATE = "admin/workbench/lockout.html"
#: axes keeps the username in a 255-character column; no user's name is longer than 150 (Django's User).
USERNAME_LIMIT = 150


def client_username(request, credentials=None):
    """The username an attempt is counted under (AXES_USERNAME_CALLABLE): as given, cut to 150 characters,
    a NUL (which PostgreSQL's text refuses) made U+FFFD, so any posted name is counted, never a 500.

    Django's sign-in form does not check the username's length before it authenticates."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        value = credentials.get(field)
    else:
        value = getattr(request, "data", request.POST).get(field)
    if value is None:
        return None
    text = str(value)[:USERNAME_LIMIT].replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8") if not _encodable(text) else text


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, except that a successful sign-in resets its own username's count only."""

    def reset_user_attempts(self, request, credentials=None):
        # axes also clears every count of the request's IP address: an attacker with an account of their own
        # could then sign in between guesses at someone else's password and never reach the limit.
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """The admin's sign-in page with the lockout message (AXES_LOCKOUT_CALLABLE), 429 with Retry-After.

    The form is unbound: binding the posted one would authenticate again and count another failure."""
    username = get_client_username(request, credentials) or ""
    if not username.isprintable():
        username = ""
    context = {
        **admin.site.each_context(request),
        "title": "Log in",
        "app_path": request.path,
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "lockout_message": settings.AXES_COOLOFF_MESSAGE,
        REDIRECT_FIELD_NAME: _next(request),
    }
    response = render(request, LOCKOUT_TEMPLATE, context, status=429)
    cool_off = get_cool_off(request)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def _next(request):
    value = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    # Only a path of this site goes back into the form (the admin's login view checks it again anyway).
    return value if value.startswith("/") and not value.startswith("//") and value.isprintable() else ""
