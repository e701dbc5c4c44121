"""What a load balancer or an orchestrator asks, unauthenticated: is the process up (`/healthz`, no
database), can it serve (`/readyz`, the database answers a trivial query within a second); and what a
request meets while the database is gone (503 with Retry-After, never a 500)."""

import time

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse

#: Seconds a client should wait before trying again while the database is unreachable.
RETRY_AFTER = 5
READY_WITHIN = 1.0


def database_unavailable(error):
    """Whether `error` means the database cannot be reached or cannot serve (down, restarting, in
    recovery, the connection lost): the request may succeed once it is back."""
    return isinstance(error, OperationalError | InterfaceError)


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return _not_ready(f"database unavailable: {type(error).__name__}")
    elapsed = time.monotonic() - started
    if elapsed > READY_WITHIN:
        return _not_ready(f"database answered in {elapsed:.2f} s")
    return JsonResponse({"status": "ready", "database_ms": round(elapsed * 1000, 1)})


def _not_ready(reason):
    response = JsonResponse({"status": "unavailable", "reason": reason}, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def unavailable_page(request):
    """The plain 503 page of the admin and every non-API page: no traceback, no HTML 500."""
    response = HttpResponse(
        "Service unavailable: the database cannot be reached. Try again in a few seconds.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER)
    return response
