"""First in MIDDLEWARE: the probes and the lost database.

`/healthz` and `/readyz` are answered here, before host validation, the HTTPS redirect and sessions: a load
balancer asks by the instance's address over plain HTTP, and a probe must not touch the session table.
Neither answer uses the Host header. A view that meets a lost database (the admin included; DRF views
answer through the API's exception handler) gets a 503 with Retry-After instead of a 500 page, in debug
too, and the next request tries the database again: nothing here remembers that it was gone.
"""

import logging

from workbench.kit import health
from workbench.kit.api.errors import unavailable_response

logger = logging.getLogger(__name__)

PROBES = {"/healthz": health.healthz, "/readyz": health.readyz}


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if health.database_unavailable(exception):
            logger.warning("Database unavailable on %s: %s", request.path, exception)
            return unavailable_response(request)
        return None
