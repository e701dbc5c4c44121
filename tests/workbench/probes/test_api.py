"""The probe API: 202 with the probe and its Location, GET reports it and names the draft it created;
another tenant's probe is a 404; viewers cannot start one; bad input is a 400 naming the field."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory, token_client
from tests.workbench.probes.kit import editor, outcome
from workbench.models import Membership, Probe

pytestmark = pytest.mark.django_db

PERMS = [
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
]
BODY = {"connector_id": "notes", "registry_type": "pypi", "identifier": "notes-server", "version": "1.2.3"}


def test_import_package_answers_202_and_the_probe_names_the_draft_it_created(
    runner, django_capture_on_commit_callbacks
):
    client = token_client(editor(perms=PERMS))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/drafts/import-package/", BODY, format="json")
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["status"] == "queued" and body["kind"] == "import" and body["id"].startswith("probe_")
    assert answer["Location"] == body["url"] and body["url"].endswith(f"/api/v1/probes/{body['id']}/")
    assert body["target"] == {
        "registry_type": "pypi", "identifier": "notes-server", "version": "1.2.3", "url": "", "bin": ""
    }
    probe = client.get(answer["Location"]).json()
    assert probe["status"] == "succeeded" and probe["server"]["name"] == "notes-server"
    draft_id = Probe.objects.get().created_draft_id
    assert probe["draft"]["id"] == draft_id and probe["draft"]["url"].endswith(f"/api/v1/drafts/{draft_id}/")
    assert client.get(probe["draft"]["url"]).json()["connector_id"] == "notes"


def test_a_failed_probe_reports_reason_and_stderr(runner, django_capture_on_commit_callbacks):
    runner.answer = outcome(ok=False, tools=[], reason="No version 9.9.9 of notes-server on PyPI.",
                            stderr_tail="ERROR: No matching distribution")
    client = token_client(editor(perms=PERMS))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/drafts/import-package/", {**BODY, "version": "9.9.9"}, format="json")
    probe = client.get(answer["Location"]).json()
    assert probe["status"] == "failed" and probe["draft"] is None
    assert probe["reason"].startswith("No version") and "No matching" in probe["stderr_tail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": ">=1.0"}, "version"),
        ({"version": "latest"}, "version"),
        ({"registry_type": "local", "identifier": "/etc/passwd"}, "registry_type"),
        ({"identifier": "--index-url=http://evil"}, "identifier"),
        ({"identifier": "x\u0000"}, "identifier"),
        ({"connector_id": "Not An Id"}, "connector_id"),
        ({"version": "1" * 100}, "version"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_queues_nothing(runner, change, field):
    client = token_client(editor(perms=PERMS))
    answer = client.post("/api/v1/drafts/import-package/", {**BODY, **change}, format="json")
    assert answer.status_code == 400, answer.json()
    assert answer["Content-Type"] == "application/problem+json"
    # The JSON parser names a NUL by its JSON path ($.identifier), before the serializer runs.
    assert field in {error["field"].removeprefix("$.") for error in answer.json()["errors"]}
    assert not Probe.objects.exists()


def test_check_a_draft_answers_202_and_reports_the_findings(runner, django_capture_on_commit_callbacks):
    draft = WorkbenchDraftFactory(owner=editor(perms=PERMS))
    client = token_client(draft.owner)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/drafts/{draft.pk}/probe/", format="json")
    assert answer.status_code == 202 and answer.json()["kind"] == "check"
    probe = client.get(answer["Location"]).json()
    assert probe["draft"]["id"] == draft.pk and probe["draft"]["revision"] == draft.revision
    codes = {(f["code"], f["path"]) for f in probe["findings"]}
    assert ("declared_not_served", "probe.tools.delete_file") in codes
    assert ("served_not_declared", "probe.tools.search_notes") in codes


def test_another_tenants_probe_does_not_exist_and_a_viewer_cannot_start_one(runner):
    probe = ProbeFactory()
    outsider = token_client(editor(perms=PERMS))
    assert outsider.get(f"/api/v1/probes/{probe.pk}/").status_code == 404
    assert outsider.post(f"/api/v1/drafts/{probe.draft_id}/probe/").status_code == 404
    assert outsider.get("/api/v1/probes/").json()["results"] == []
    viewer = editor(tenant=probe.tenant, role=Membership.Role.VIEWER, perms=PERMS)
    client = token_client(viewer)
    assert client.get(f"/api/v1/probes/{probe.pk}/").status_code == 200
    assert client.post(f"/api/v1/drafts/{probe.draft_id}/probe/").status_code == 403
    answer = client.post(
        "/api/v1/drafts/import-package/", {**BODY, "tenant": probe.tenant.slug}, format="json"
    )
    assert answer.status_code == 403 and Probe.objects.count() == 1


def test_reading_takes_the_drafts_view_permission():
    probe = ProbeFactory()
    assert token_client(probe.draft.owner).get(f"/api/v1/probes/{probe.pk}/").status_code == 403


def test_the_probe_list_is_a_fixed_number_of_queries():
    probe = ProbeFactory()
    client = token_client(editor(tenant=probe.tenant, perms=PERMS))
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/probes/").status_code == 200
        counts.append(len(queries))
        for _ in range(5):
            ProbeFactory(draft=probe.draft)
    assert counts[0] == counts[1]
    assert len(client.get("/api/v1/probes/").json()["results"]) == 11


def test_checking_takes_the_change_permission_and_importing_the_add_permission(runner):
    draft = WorkbenchDraftFactory(
        owner=editor(perms=["workbench.view_workbenchdraft", "workbench.add_workbenchdraft"])
    )
    client = token_client(draft.owner)
    assert client.post(f"/api/v1/drafts/{draft.pk}/probe/").status_code == 403
    reader = token_client(editor(tenant=draft.tenant, perms=["workbench.view_workbenchdraft"]))
    body = {**BODY, "tenant": draft.tenant.slug}
    answer = reader.post("/api/v1/drafts/import-package/", body, format="json")
    assert answer.status_code == 403 and not Probe.objects.exists()


def test_importing_into_a_tenant_the_user_does_not_write_in_is_refused(runner):
    other = WorkbenchDraftFactory().tenant
    client = token_client(editor(perms=PERMS))
    answer = client.post("/api/v1/drafts/import-package/", {**BODY, "tenant": other.slug}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "not_a_writer"
    assert not Probe.objects.exists()
