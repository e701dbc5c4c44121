"""First in MIDDLEWARE: the probes, requests no view can take, and the lost database.

`/healthz` and `/readyz` are answered here, before host validation, the HTTPS redirect and sessions: a load
balancer asks by the instance's address over plain HTTP, and a probe must not touch the session table.
Neither answer uses the Host header.

A control character in the path names nothing (404), and a NUL in a query parameter is refused (400)
before a filter or the admin's search hands it to PostgreSQL, which cannot compare text holding one.

A view that meets a lost database (the admin included; DRF views answer through the API's exception
handler) gets a 503 with Retry-After instead of a 500 page, in debug too, and the next request tries the
database again: nothing here remembers that it was gone.
"""

import logging
import re

from django.core.exceptions import RequestDataTooBig

from workbench.kit import health
from workbench.kit.api.errors import problem_response, unavailable_response
from workbench.kit.uploads import body_too_large

logger = logging.getLogger(__name__)

PROBES = {"/healthz": health.healthz, "/readyz": health.readyz}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        refused = refuse_unreadable(request)
        if refused is not None:
            return refused
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            refusal = body_too_large()
            return problem_response(request, refusal.status, refusal.code, refusal.detail)
        if health.database_unavailable(exception):
            logger.warning("Database unavailable on %s: %s", request.path, exception)
            return unavailable_response(request)
        return None


def refuse_unreadable(request):
    if CONTROL.search(request.path):
        return problem_response(request, 404, "not_found", "No such resource.")
    for name, values in request.GET.lists():
        if any("\x00" in text for text in (name, *values)):
            return problem_response(
                request,
                400,
                "null_character",
                f"Query parameter {name!r} must not contain NUL (\\u0000) characters.",
                errors=[{"field": name, "code": "null_character", "message": "NUL is not allowed."}],
            )
    return None
