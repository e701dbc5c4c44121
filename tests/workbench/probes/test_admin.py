"""The probe pages of the admin: import from a package (form -> probe -> status page that reloads itself
while the probe is under way, links the draft on success, shows reason and stderr on failure), the
probe list (the user's tenants only), and a draft's "Check against the live server" page."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory
from tests.workbench.probes.kit import editor
from workbench.models import Membership, Probe

pytestmark = pytest.mark.django_db

PERMS = ["workbench.view_workbenchdraft", "workbench.add_workbenchdraft", "workbench.change_workbenchdraft"]
IMPORT = "/admin/workbench/probe/import/"


def _client(client, user):
    client.force_login(user)
    return client


def _status(probe_id):
    return f"/admin/workbench/probe/{quote(probe_id)}/change/"


def _no_inline_script(html):
    # A strict Content-Security-Policy is coming: no inline script, no handlers, no javascript: URLs.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html) and "javascript:" not in html


def test_import_from_a_package_starts_the_probe_and_the_status_page_links_the_draft(
    client, runner, django_capture_on_commit_callbacks
):
    user = editor(perms=PERMS)
    client = _client(client, user)
    page = client.get(IMPORT)
    assert page.status_code == 200 and b"Start the probe" in page.content
    _no_inline_script(page.content.decode())
    body = {"tenant": user.memberships.get().tenant.slug, "connector_id": "notes", "registry_type": "pypi",
            "identifier": "notes-server", "version": "1.2.3"}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(IMPORT, body)
    probe = Probe.objects.get()
    assert answer.status_code == 302 and answer["Location"] == _status(probe.pk)
    status = client.get(answer["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in status
    assert f">{probe.created_draft_id}</a>" in status and "search_notes" in status
    _no_inline_script(status)


def test_the_import_form_names_a_bad_version_and_starts_nothing(client, runner):
    user = editor(perms=PERMS)
    body = {"tenant": user.memberships.get().tenant.slug, "connector_id": "notes", "registry_type": "pypi",
            "identifier": "notes-server", "version": ">=1.0"}
    page = _client(client, user).post(IMPORT, body)
    assert page.status_code == 200 and b"is not one exact PEP 440 version" in page.content
    assert not Probe.objects.exists()


def test_a_probe_under_way_reloads_itself_with_a_progress_indicator(client):
    probe = ProbeFactory(status="running", finished_at=None, tools=[],
                         deadline_at=timezone.now() + timedelta(minutes=5))
    page = _client(client, editor(tenant=probe.tenant, perms=PERMS)).get(_status(probe.pk)).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page and "<progress" in page
    _no_inline_script(page)


def test_a_failed_probe_shows_reason_and_stderr_tail(client):
    probe = ProbeFactory(status="failed", reason="The server exited with status 3 before initialize.",
                         stderr_tail="configuration file /etc/notes.toml is missing", tools=[])
    page = _client(client, editor(tenant=probe.tenant, perms=PERMS)).get(_status(probe.pk)).content.decode()
    assert "exited with status 3" in page and "/etc/notes.toml is missing" in page
    assert 'http-equiv="refresh"' not in page


def test_another_tenants_probe_does_not_exist_and_the_list_shows_the_users_tenants(client):
    mine, theirs = ProbeFactory(), ProbeFactory()
    client = _client(client, editor(tenant=mine.tenant, perms=PERMS))
    listing = client.get("/admin/workbench/probe/").content.decode()
    assert mine.pk in listing and theirs.pk not in listing
    # The admin's answer for a row that does not exist: back to the index, saying so.
    missing = client.get(_status(theirs.pk))
    assert missing.status_code == 302 and missing["Location"] == "/admin/"


def test_the_probe_list_is_a_fixed_number_of_queries(client):
    probe = ProbeFactory()
    client = _client(client, editor(tenant=probe.tenant, perms=PERMS))
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/workbench/probe/").status_code == 200
        counts.append(len(queries))
        for _ in range(5):
            ProbeFactory(draft=probe.draft)
    assert counts[0] == counts[1]


def test_the_draft_check_page_lists_each_revisions_probe_and_starts_one(
    client, runner, django_capture_on_commit_callbacks
):
    draft = WorkbenchDraftFactory(owner=editor(perms=PERMS))
    old = ProbeFactory(draft=draft, findings=[
        {"severity": "error", "code": "served_not_declared", "path": "probe.tools.x", "message": "Served x."}
    ])
    url = f"/admin/workbench/workbenchdraft/{quote(draft.pk)}/probe/"
    client = _client(client, draft.owner)
    page = client.get(url).content.decode()
    assert old.pk in page and "Served x." in page and "Check revision 1 against the live server" in page
    _no_inline_script(page)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url)
    probe = Probe.objects.exclude(pk=old.pk).get()
    assert answer.status_code == 302 and answer["Location"] == _status(probe.pk)
    assert probe.status == "succeeded" and probe.draft_revision == draft.revision


def test_a_viewer_reads_the_check_page_but_cannot_start_a_probe(client, runner):
    draft = WorkbenchDraftFactory()
    viewer = editor(tenant=draft.tenant, role=Membership.Role.VIEWER, perms=PERMS)
    url = f"/admin/workbench/workbenchdraft/{quote(draft.pk)}/probe/"
    client = _client(client, viewer)
    page = client.get(url)
    assert page.status_code == 200 and b"Check revision 1" not in page.content
    assert client.post(url).status_code == 403 and not Probe.objects.exists()
    assert _client(client, editor(perms=PERMS)).get(url).status_code == 404


def test_the_drafts_list_links_the_import_page(client):
    page = _client(client, editor(perms=PERMS)).get("/admin/workbench/workbenchdraft/")
    assert IMPORT.encode() in page.content and b"Import from a package" in page.content




@pytest.mark.parametrize("object_id", ["probe_5F00", "probe_00", "x" * 3000, "probe_zz"])
def test_an_id_that_cannot_be_a_probe_or_draft_is_not_found(client, object_id):
    client = _client(client, editor(perms=PERMS))
    assert client.get(f"/admin/workbench/probe/{object_id}/change/").status_code == 302
    assert client.get(f"/admin/workbench/workbenchdraft/{object_id}/probe/").status_code == 404
