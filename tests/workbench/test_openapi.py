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
