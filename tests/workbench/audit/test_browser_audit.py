"""The security events page in a real browser under the Content-Security-Policy: an auditor's own sign-in
is on the list, the kind filter narrows it, an event's page shows its detail, and the export button
downloads the TSV. Screenshots audit_*.png in $TEST_ARTIFACTS_DIR."""

from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login, shot
from tests.workbench.factories import StaffFactory, UserFactory
from workbench.services.audit import Kind, audit_record

pytestmark = browser_marks


def test_an_auditor_reads_filters_and_exports_the_audit_trail(page, server):
    auditor = StaffFactory(
        username="audit-browser", perms=["workbench.view_securityevent", "workbench.audit_tenants"]
    )
    audit_record(
        kind=Kind.GROUP_CHANGED, actor=UserFactory(username="ops-lead"), subject="user audit-browser",
        detail={"added_groups": ["auditors"]},
    )
    login(page, server.url, auditor.username)
    page.goto(f"{server.url}/admin/workbench/securityevent/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() >= 2
    assert page.locator("#result_list", has_text="login succeeded").count() == 1
    shot(page, "audit_list")

    page.click("#changelist-filter >> text=group changed")
    page.wait_for_url("**kind__exact=group_changed**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "ops-lead" in rows.first.inner_text()
    rows.first.locator("a").first.click()
    page.wait_for_selector("text=added_groups")
    shot(page, "audit_event")

    page.goto(f"{server.url}/admin/workbench/securityevent/")
    with page.expect_download() as download:
        page.click("text=Export security-events.tsv")
    content = open(download.value.path(), encoding="utf-8").read()
    assert content.startswith("at\tkind\tactor\tsubject\ttenant\tip\tdetail\n")
    assert "group_changed\tops-lead\tuser audit-browser" in content
