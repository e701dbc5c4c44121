"""OpenAPI generation: every operation also documents the problem+json answers it can give.

The API answers every error as application/problem+json (workbench.kit.api.errors) with one body shape,
the `Problem` component. Which statuses an operation can give follows from what it is, so they are added
here from the generated operation rather than written on each view:

- every operation: 401 (no or unknown credentials), 403 (refused for who you are), 406 (an Accept header
  naming no type the endpoint answers), 429 (throttled: over a rate limit, with Retry-After) and 503
  (database_unavailable, with Retry-After);
- a path parameter: 404 (no such row, or none you may address);
- a GET with query parameters (filters, ordering, pagination): 400 for a value the filter or the pager
  refuses; a paginated list also 404 for a page past the last;
- a POST, PUT or PATCH: 400 (validation_error or a more precise code, one `errors` entry per field);
- a write (POST, PUT, PATCH, DELETE): 409 (a conflict with the stored state: still in use, immutable, a
  concurrent duplicate, a state that does not allow the action);
- a request body: 413 (body_too_large) and 415 (a Content-Type other than JSON);
- an If-Match header: 412 (the revision is no longer the current one) and 428 (missing or not a
  revision number);
- a path or query parameter: 414, a URL longer than the HTTP server takes. The server (gunicorn, or a
  proxy in front of it) answers that before the API sees the request, with its own body: documented
  without content, the one answer that is not problem+json.

The CI run of schemathesis (`.ci/run`) checks that every status and content type the server answers is
one of these, and that every body matches its schema.
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from workbench.kit.api.errors import PROBLEM_CONTENT_TYPE, TITLES
from workbench.kit.api.serializers import ProblemSerializer

BODY_METHODS = {"POST", "PUT", "PATCH"}
WRITE_METHODS = BODY_METHODS | {"DELETE"}
DESCRIPTIONS = {
    "400": "Invalid request: code validation_error (or a more precise code), one `errors` entry per field.",
    "401": "No or unknown credentials (code not_authenticated or authentication_failed).",
    "403": (
        'Refused for who you are (README "Who may change what"): permission_denied (the model '
        "permission), platform_scope (platform rows: platform staff only), tenant_scope (another tenant's "
        "rows), live_binding / read_only (rows only publish or a service writes), self_grant, "
        "not_connector_owner, review_required."
    ),
    "404": "No such resource, or a page past the last one (code not_found).",
    "406": "The Accept header names no type this endpoint answers (code not_acceptable).",
    "409": (
        "In conflict with the stored state: still used by other rows (code protected), an immutable "
        "field, a concurrent duplicate (conflict), or a state that does not allow this (e.g. "
        "already_revoked, no_change, draft_not_editable)."
    ),
    "412": "The row is no longer at the revision named by If-Match (code precondition_failed).",
    "413": "The request body is larger than the limit (code body_too_large, with `limit` in bytes).",
    "415": "The request body is not JSON (code unsupported_media_type).",
    "428": "If-Match is missing or names no revision (code precondition_required).",
    "429": (
        'Over a rate limit of the token or of the tenant (code throttled; README "Production"); retry '
        "after Retry-After seconds."
    ),
    "503": (
        "The database cannot be reached (code database_unavailable) or, with REDIS_URL set, the Redis that "
        "counts rate limits (code rate_limits_unavailable); retry after Retry-After seconds."
    ),
}
#: Answers the HTTP server gives before the API sees the request: documented without a body.
SERVER_ANSWERS = {
    "414": (
        "The URL is longer than the HTTP server takes (gunicorn: a 4094-byte request line); the server "
        "answers with its own body, not problem+json."
    ),
}


class WorkbenchTokenScheme(KnoxTokenScheme):
    """The knox token scheme, for knox's TokenAuthentication as workbench.kit.auth narrows it."""

    target_class = "workbench.kit.auth.TokenAuthentication"


class ProblemAutoSchema(AutoSchema):
    """AutoSchema adding the application/problem+json responses an operation can give (module docstring).

    Subclasses extend `problem_codes()` for operations with more refusals (e.g. 422, 423); it may read
    `self.operation`, the operation generated so far. Codes an operation already documents (e.g. through
    @extend_schema(responses=...)) are left alone.
    """

    #: False where the view forces content negotiation (it answers whatever the Accept header says).
    answers_not_acceptable = True

    def problem_codes(self):
        codes = ["401", "403", "429", "503"]
        if self.answers_not_acceptable:
            codes.append("406")
        parameters = self.operation.get("parameters", [])
        locations = {parameter["in"] for parameter in parameters}
        if "path" in locations:
            codes.append("404")
        if locations & {"path", "query"}:
            codes.append("414")
        if self.method == "GET" and "query" in locations:
            codes.append("400")
            if self._is_list_view() and self._get_paginator():
                codes.append("404")
        if self.method in BODY_METHODS:
            codes.append("400")
        if self.method in WRITE_METHODS:
            codes.append("409")
        if "requestBody" in self.operation:
            codes += ["413", "415"]
        headers = {parameter["name"].lower() for parameter in parameters if parameter["in"] == "header"}
        if "if-match" in headers:
            codes += ["412", "428"]
        return codes

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self.operation = operation
        responses = operation["responses"]
        for code in self.problem_codes():
            if code in responses:
                continue
            if code in SERVER_ANSWERS:
                responses[code] = {"description": SERVER_ANSWERS[code]}
            else:
                description = DESCRIPTIONS.get(code) or TITLES.get(int(code), "Error")
                problem = OpenApiResponse(ProblemSerializer, description=description)
                responses[code] = self._get_response_for_code(
                    problem, code, media_types=[PROBLEM_CONTENT_TYPE]
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation
