"""OpenAPI generation: every operation also documents the problem+json answers it can give."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from workbench.kit.api.errors import PROBLEM_CONTENT_TYPE, TITLES
from workbench.kit.api.serializers import ProblemSerializer

BODY_METHODS = {"POST", "PUT", "PATCH"}
DESCRIPTIONS = {
    "400": "Invalid request: code validation_error, one `errors` entry per field.",
    "401": "No or unknown credentials (code not_authenticated or authentication_failed).",
    "403": (
        "Refused for who you are (README \"Who may change what\"): permission_denied (the model "
        "permission), platform_scope (platform rows: platform staff only), tenant_scope (another tenant's "
        "rows), live_binding / read_only (rows only publish or a service writes), self_grant, "
        "not_connector_owner, review_required."
    ),
    "404": "No such resource (code not_found).",
    "409": "Still used by other rows (code protected) or in conflict with the stored state.",
}


class ProblemAutoSchema(AutoSchema):
    """AutoSchema adding 400/401/403/404/409 application/problem+json responses where they apply.

    Subclasses extend `problem_codes()` for operations with more refusals (e.g. 422, 423). Codes an
    operation already documents (e.g. through @extend_schema(responses=...)) are left alone.
    """

    def problem_codes(self):
        codes = ["401", "403"]
        if self.method in BODY_METHODS:
            codes.append("400")
        if self.path_regex and "(?P<" in self.path_regex:
            codes.append("404")
        if self.method == "DELETE":
            codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.problem_codes():
            if code not in responses:
                description = DESCRIPTIONS.get(code) or TITLES.get(int(code), "Error")
                problem = OpenApiResponse(ProblemSerializer, description=description)
                responses[code] = self._get_response_for_code(
                    problem, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
        return dict(sorted(responses.items()))
