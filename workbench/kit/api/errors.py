"""Every API error as application/problem+json (RFC 9457) with a stable machine-readable `code`.

Body: {"type", "title", "status", "detail", "code", "errors": [{"field", "code", "message"}]}.
`errors` has one entry per field (or row) for validation failures. Services raise
`workbench.kit.refusals.Refusal` (status, code, detail, errors); DRF's own exceptions (parsing,
authentication, permissions, serializer validation) come through here too. This handler is the only
place that shapes the answer.
"""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from workbench.kit.health import RETRY_AFTER, database_unavailable, unavailable_page
from workbench.kit.refusals import Refusal
from workbench.kit.rows import protected_refusal
from workbench.kit.uploads import body_too_large

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    423: "Locked",
    428: "Precondition required",
    429: "Too many requests",
    501: "Not implemented",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def flatten_errors(detail, prefix=""):
    """Turn DRF's nested error detail into a flat list of {field, code, message}."""
    entries = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            entries.extend(flatten_errors(value, path))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                entries.extend(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
            else:
                entries.extend(flatten_errors(value, prefix))
    else:
        entries.append(
            {
                "field": prefix or None,
                "code": getattr(detail, "code", None) or "invalid",
                "message": str(detail),
            }
        )
    return entries


def _django_validation_to_drf(exc):
    # get_error_detail keeps each message's code (e.g. "invalid_identifier", "immutable").
    detail = get_error_detail(exc)
    return exceptions.ValidationError(detail if isinstance(detail, dict) else {"non_field_errors": detail})


def problem_body(status_code, code, detail, *, title=None, errors=None, **extra):
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def refusal_response(refusal):
    """A service's Refusal as a problem+json response."""
    body = problem_body(refusal.status, refusal.code, refusal.detail, errors=refusal.errors, **refusal.extra)
    response = Response(body, status=refusal.status, content_type=PROBLEM_CONTENT_TYPE)
    retry_after = refusal.extra.get("retry_after")
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def problem_exception_handler(exc, context):
    if database_unavailable(exc):
        logger.warning("Database unavailable, answered 503: %s", exc)
        exc = Refusal(
            503,
            "database_unavailable",
            "The database cannot be reached; try again shortly.",
            retry_after=RETRY_AFTER,
        )
    elif isinstance(exc, RequestDataTooBig):
        exc = body_too_large()
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = protected_refusal(exc)
    elif isinstance(exc, IntegrityError):
        # A constraint the database enforced after validation passed (e.g. a concurrent duplicate).
        logger.warning("Integrity error answered as 409: %s", exc)
        exc = Refusal(409, "conflict", "The change conflicts with stored data; reload and retry.")
    if isinstance(exc, Refusal):
        set_rollback()  # as DRF does for its own exceptions: nothing of the refused request commits
        return refusal_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        refusal = Refusal.invalid(flatten_errors(exc.detail))
        body = problem_body(400, refusal.code, refusal.detail, errors=refusal.errors)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = problem_body(response.status_code, code if isinstance(code, str) else "error", detail)

    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_response(status_code, code, detail, errors=None):
    return JsonResponse(
        problem_body(status_code, code, detail, errors=errors),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


#: The MCP registry read API (registries/api/mcp_registry.py) answers errors in the registry's own shape.
REGISTRY_PREFIX = "/v0/"


def problem_response(request, status_code, code, detail, errors=None):
    """An answer given outside any view (middleware): problem+json under /api/, the registry's
    {"error": ...} under /v0/, plain text elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(status_code, code, detail, errors)
    if request.path.startswith(REGISTRY_PREFIX):
        return JsonResponse({"error": detail}, status=status_code)
    return HttpResponse(f"{detail}\n", status=status_code, content_type="text/plain; charset=utf-8")


def handler404(request, exception=None):
    """Django-level 404 (no URL matched): problem+json under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "No such resource.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def unavailable_response(request):
    """The answer while the database is gone: problem+json under /api/, the registry's {"error": ...}
    under /v0/, a plain page elsewhere; all 503 with Retry-After, so a client or a load balancer tries
    again instead of giving up."""
    detail = "The database cannot be reached; try again shortly."
    if request.path.startswith(REGISTRY_PREFIX):
        response = JsonResponse({"error": detail}, status=503)
    elif not request.path.startswith("/api/"):
        return unavailable_page(request)
    else:
        response = _problem_response(503, "database_unavailable", detail)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def handler500(request):
    error = sys.exc_info()[1]
    if database_unavailable(error):
        # Raised where no view or middleware caught it: a 503 the client may retry, not a 500.
        logger.warning("Database unavailable on %s: %s", request.path, error)
        return unavailable_response(request)
    logger.error("Unhandled server error on %s", request.path)
    if request.path.startswith(REGISTRY_PREFIX):
        return JsonResponse({"error": "The server failed; the error is logged."}, status=500)
    if request.path.startswith("/api/"):
        return _problem_response(500, "server_error", "The server failed; the error is logged.")
    from django.views.defaults import server_error

    return server_error(request)


def not_found(request, *args, **kwargs):
    """The API's answer to a URL it does not have, in debug too (Django's debug 404 page is HTML)."""
    return _problem_response(404, "not_found", "No such resource.")
