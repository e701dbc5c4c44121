"""Every API error as application/problem+json (RFC 9457) with a stable machine-readable `code`.

Body: {"type", "title", "status", "detail", "code", "errors": [{"field", "code", "message"}]}.
`errors` has one entry per field (or row) for validation failures. Domain services raise `Problem`
subclasses (or Django's ValidationError); this handler is the only place that shapes the answer.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


class Problem(exceptions.APIException):
    """A refusal with its own HTTP status and code, e.g. Problem(409, "conflict", "Already published")."""

    def __init__(self, status_code, code, detail, *, title=None, errors=None, **extra):
        self.status_code = status_code
        self.title = title
        self.errors = errors or []
        self.extra = extra
        super().__init__(detail=detail, code=code)
        self.problem_code = code


TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    423: "Locked",
    428: "Precondition required",
    429: "Too many requests",
    501: "Not implemented",
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


def _unique(errors):
    """Drop repeats of the same message on the same field (a model's clean() and its database
    constraint often say the same thing)."""
    seen, unique = set(), []
    for entry in errors:
        key = (entry["field"], entry["message"])
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def _django_validation_to_drf(exc):
    # get_error_detail keeps each message's code (e.g. "invalid_identifier", "immutable").
    detail = get_error_detail(exc)
    return exceptions.ValidationError(detail if isinstance(detail, dict) else {"non_field_errors": detail})


def _protected_problem(exc):
    """A delete refused because other rows still point at this one (on_delete=PROTECT/RESTRICT)."""
    blockers = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    counts = {}
    for obj in blockers:
        name = obj._meta.verbose_name_plural
        counts[name] = counts.get(name, 0) + 1
    used_by = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return Problem(
        status.HTTP_409_CONFLICT, "protected",
        f"Cannot delete: still used by {used_by}. Remove or change those first.",
        errors=[{"field": None, "code": "protected", "message": f"Used by {count} {name}."}
                for name, count in sorted(counts.items())],
    )


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


def problem_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = _protected_problem(exc)
    elif isinstance(exc, IntegrityError):
        # A constraint the database enforced after validation passed (e.g. a concurrent duplicate).
        logger.warning("Integrity error answered as 409: %s", exc)
        exc = Problem(
            status.HTTP_409_CONFLICT, "conflict", "The change conflicts with stored data; reload and retry."
        )

    response = exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, Problem):
        body = problem_body(
            exc.status_code, exc.problem_code, str(exc.detail),
            title=exc.title, errors=exc.errors, **exc.extra,
        )
    elif isinstance(exc, exceptions.ValidationError):
        errors = _unique(flatten_errors(exc.detail))
        fields = sorted({e["field"] for e in errors if e["field"]})
        if fields:
            detail = f"Invalid {', '.join(fields)}."
        else:
            detail = errors[0]["message"] if errors else "Invalid input."
        body = problem_body(status.HTTP_400_BAD_REQUEST, "validation_error", detail, errors=errors)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = problem_body(response.status_code, code if isinstance(code, str) else "error", detail)

    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_response(status_code, code, detail):
    return JsonResponse(
        problem_body(status_code, code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE
    )


def handler404(request, exception=None):
    """Django-level 404 (no URL matched): problem+json under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "No such resource.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    logger.error("Unhandled server error on %s", request.path)
    if request.path.startswith("/api/"):
        return _problem_response(500, "server_error", "The server failed; the error is logged.")
    from django.views.defaults import server_error

    return server_error(request)
