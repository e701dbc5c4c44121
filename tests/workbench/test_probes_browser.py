"""Sandbox probe pages in a real browser (Playwright driving Debian's Chromium): import from a package
(the runner stood in for) lands on the probe's status page with the draft it created; a probe under way
shows a progress bar and its page reloads by itself until the probe is done. Screenshots in
$TEST_ARTIFACTS_DIR (default: artifacts/browser/)."""

from datetime import timedelta

from django.contrib.admin.utils import quote
from django.utils import timezone

from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.factories import ProbeFactory, WorkbenchDraftFactory
from tests.workbench.probes.kit import editor, outcome
from workbench.models import Probe

pytestmark = browser_marks

PERMS = ["workbench.view_workbenchdraft", "workbench.add_workbenchdraft", "workbench.change_workbenchdraft"]


def shot(page, name):
    keep_screenshot(page, f"probes_{name}")


def test_import_from_a_package_lands_on_the_status_page_with_the_draft(page, server, monkeypatch):
    monkeypatch.setattr("workbench.services.probes.running.outcome_of", lambda probe: outcome())
    user = editor(username="probe-browser", perms=PERMS)
    login(page, server.url, user.username)
    page.goto(f"{server.url}/admin/workbench/workbenchdraft/")
    page.click("text=Import from a package")
    page.fill("#id_connector_id", "notes")
    page.select_option("#id_registry_type", "pypi")
    page.fill("#id_identifier", "notes-server")
    page.fill("#id_version", "1.2.3")
    shot(page, "import_form")
    page.click("input[type=submit][value='Start the probe']")
    page.wait_for_selector("#probe-draft")
    shot(page, "import_succeeded")
    probe = Probe.objects.get()
    assert page.inner_text("#probe-draft") == probe.created_draft_id


def test_a_probe_under_way_reloads_until_it_is_done(page, server):
    user = editor(username="probe-watcher", perms=PERMS)
    draft = WorkbenchDraftFactory(tenant=user.memberships.get().tenant, owner=user)
    probe = ProbeFactory(draft=draft, status="running", finished_at=None, tools=[],
                         deadline_at=timezone.now() + timedelta(minutes=5))
    login(page, server.url, user.username)
    page.goto(f"{server.url}/admin/workbench/probe/{quote(probe.pk)}/change/")
    assert page.get_attribute("#probe-status", "data-status") == "running"
    assert page.is_visible("progress.probe-progress")
    shot(page, "running")
    Probe.objects.filter(pk=probe.pk).update(status="succeeded", finished_at=timezone.now())
    page.wait_for_selector("#probe-status[data-status=succeeded]", timeout=10_000)
    assert not page.is_visible("progress.probe-progress")
    shot(page, "done")
