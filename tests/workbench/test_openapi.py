"""The OpenAPI 3 schema generates without warnings or errors, validates, and is served with its docs."""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from tests.workbench.factories import UserFactory, token_client

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path, capsys):
    path = tmp_path / "schema.yaml"
    # --fail-on-warn raises on any warning or error, --validate checks it against the OpenAPI 3 spec.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    assert not GENERATOR_STATS
    assert "Warning" not in capsys.readouterr().err
    schema = yaml.safe_load(path.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path_name in ["/api/v1/connectors/{connector_id}/versions/", "/api/v1/specs/{id}/deprecate/",
                      "/api/v1/firearm-grants/{uid}/revoke/", "/api/v1/strategy-locks/{name}/engage/",
                      "/api/v1/kpi-corridors/{kpi_id}/", "/api/v1/engine-routes/{id}/"]:
        assert path_name in paths
    assert set(paths["/api/v1/firearm-grants/{uid}/"]) == {"get"}
    assert set(paths["/api/v1/connectors/"]) == {"get"}


def test_schema_documents_problem_json_errors(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())
    create = schema["paths"]["/api/v1/firearms/"]["post"]["responses"]
    assert set(create) >= {"201", "400", "401", "403"}
    assert "application/problem+json" in create["400"]["content"]
    assert "409" in schema["paths"]["/api/v1/firearms/{firearm_id}/"]["delete"]["responses"]
    problem = schema["components"]["schemas"]["Problem"]
    assert {"code", "status", "detail", "errors"} <= set(problem["properties"])


def _problem_codes(operation, path_name=""):
    # The MCP registry's /v0 paths answer errors in the registry's shape ({"error": ...} as JSON).
    media_type = "application/json" if path_name.startswith("/v0/") else "application/problem+json"
    return {
        code
        for code, response in operation["responses"].items()
        if code >= "400" and media_type in response.get("content", {})
    }


def test_every_operation_documents_the_problems_it_can_answer(tmp_path):
    """What schemathesis checks in CI (status_code_conformance): each status the API can answer is documented
    as problem+json, by what the operation is (workbench.kit.api.schema)."""
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    paths = yaml.safe_load(path.read_text())["paths"]
    for path_name, operations in paths.items():
        for method, operation in operations.items():
            codes = _problem_codes(operation, path_name)
            where = f"{method.upper()} {path_name}"
            assert {"401", "403", "503"} <= codes, where
            parameters = operation.get("parameters", [])
            if any(parameter["in"] == "path" for parameter in parameters):
                assert "404" in codes, where
            if any(parameter["in"] in ("path", "query") for parameter in parameters):
                # gunicorn's answer to an over-long URL: documented, without a problem+json body.
                assert "content" not in operation["responses"]["414"], where
            if method == "get" and any(parameter["in"] == "query" for parameter in parameters):
                assert "400" in codes, where
            if method in {"post", "put", "patch"}:
                assert {"400", "409"} <= codes, where
            if method == "delete":
                assert "409" in codes, where
            if "requestBody" in operation:
                assert {"413", "415"} <= codes, where
            if any(parameter["name"] == "If-Match" for parameter in parameters):
                assert {"412", "428"} <= codes, where
            if not path_name.startswith("/api/v1/exports/"):
                assert "406" in codes, where
    # A paginated list answers 404 for a page past the last; PATCH on a draft needs If-Match like PUT.
    assert "404" in _problem_codes(paths["/api/v1/firearms/"]["get"])
    assert {"412", "428"} <= _problem_codes(paths["/api/v1/drafts/{id}/"]["patch"])
    # The exports answer whatever Accept says (a file or a problem), so no 406.
    assert "406" not in _problem_codes(paths["/api/v1/exports/connectors.tsv"]["get"])
    invoke = _problem_codes(paths["/api/v1/tools/{name}/invoke/"]["post"])
    assert {"409", "422", "423", "429", "501", "502", "504"} <= invoke


def test_schema_and_docs_are_served_to_signed_in_users_only():
    client = APIClient()
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 200  # the page; the schema it loads needs a login
    token_client_ = token_client(UserFactory())
    response = token_client_.get("/api/schema/")
    assert response.status_code == 200
    assert b"openapi: 3" in response.content
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/api/docs/").status_code == 200
