"""The probe list leaves out each probe's served tools and stderr tail (issue 16 review): a page of probes
stays small; a probe's detail has them, and the schema says which answer has what."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import ProbeFactory, token_client
from tests.workbench.probes.kit import editor

pytestmark = pytest.mark.django_db

PERMS = ["workbench.view_workbenchdraft"]


def test_the_list_leaves_out_tools_and_stderr_and_the_detail_keeps_them():
    probe = ProbeFactory(stderr_tail="server log line")
    client = token_client(editor(tenant=probe.tenant, perms=PERMS))
    [listed] = client.get("/api/v1/probes/").json()["results"]
    assert "tools" not in listed and "stderr_tail" not in listed
    assert listed["id"] == probe.pk and listed["findings"] == [] and listed["status"] == "succeeded"
    detail = client.get(listed["url"]).json()
    assert detail["tools"] == probe.tools and detail["stderr_tail"] == "server log line"
    assert set(detail) - set(listed) == {"tools", "stderr_tail"}


def test_the_list_does_not_read_the_tools_or_stderr_columns():
    probe = ProbeFactory()
    client = token_client(editor(tenant=probe.tenant, perms=PERMS))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/probes/").status_code == 200
    # The page's rows: the one query that reads the probes' findings.
    [select] = [q["sql"] for q in queries.captured_queries if '"workbench_probe"."findings"' in q["sql"]]
    assert '"workbench_probe"."tools"' not in select and '"workbench_probe"."stderr_tail"' not in select


def test_the_schema_documents_the_list_without_tools_and_the_detail_with_them(tmp_path):
    path = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    schema = json.loads(path.read_text())
    paths = schema["paths"]
    listed = paths["/api/v1/probes/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][listed["$ref"].rsplit("/", 1)[-1]]
    item = page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[-1]
    detail = paths["/api/v1/probes/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    detail = detail["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"]
    assert not {"tools", "stderr_tail"} & set(properties[item]["properties"])
    assert {"tools", "stderr_tail"} <= set(properties[detail]["properties"])
