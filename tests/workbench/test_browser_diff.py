"""The diff, restore and bulk validate in a real browser (Playwright driving Debian's Chromium): the
side-by-side diff of two revisions chosen on the page, restore with its preview, and "Validate selected
drafts" with one message per draft. Each keeps a screenshot as a test artifact."""

from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.drafts_admin_kit import staff_member, url
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool
from workbench.models import WorkbenchDraft
from workbench.services.drafts import draft_update

pytestmark = browser_marks


def shot(page, name):
    keep_screenshot(page, f"diff_{name}", full_page=True)


def limit_tool(kind):
    schema = {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": kind}}}
    return draft_tool("search_notes", read_only=True, inputSchema=schema)


def notes_draft(user):
    """Revision 1: limit is a string (version 1.2.0); revision 2: an integer (1.3.0); revision 3: a new
    description, so that revision 2 is not the current one."""
    scopes = [{"name": "read", "tools": ["search_notes"]}]
    draft = WorkbenchDraftFactory(
        tenant=user.memberships.get().tenant,
        connector_id="notes",
        spec_snapshot=draft_spec("notes", tools=[limit_tool("string")], scopes=scopes),
        policy_snapshot={"firearms": {"read": None}, "kpis": {}},
    )
    spec = draft_spec("notes", "1.3.0", tools=[limit_tool("integer")], scopes=scopes)
    draft_update(draft_id=draft.pk, user=user, base_revision=1, changes={"spec_snapshot": spec})
    spec = {**spec, "description": "Notes, searchable"}
    draft_update(draft_id=draft.pk, user=user, base_revision=2, changes={"spec_snapshot": spec})
    return draft


def limit_row(page):
    return page.locator("tr.diff-row", has=page.locator("code", has_text="inputSchema.properties.limit.type"))


def test_diff_of_two_revisions_showing_a_changed_property_type(page, server):
    user = staff_member(username="diff-reader")
    draft = notes_draft(user)
    login(page, server.url, "diff-reader")
    page.goto(server.url + url("history", draft.pk))
    page.click("#compare-form input[type=submit]")  # live -> current
    page.wait_for_selector("#diff-from")
    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.click("#compare-button")
    page.wait_for_url("**/diff/?from=1&to=2")
    row = limit_row(page)
    assert row.locator("td.diff-before code").inner_text() == "string"
    assert row.locator("td.diff-after code").inner_text() == "integer"
    assert row.locator(".diff-badge").inner_text() == "changed"
    # The colour is a second signal: the cells are tinted, their text dark on them.
    before_bg = row.locator("td.diff-before").evaluate("el => getComputedStyle(el).backgroundColor")
    after_bg = row.locator("td.diff-after").evaluate("el => getComputedStyle(el).backgroundColor")
    assert before_bg == "rgb(253, 236, 234)" and after_bg == "rgb(230, 244, 234)"
    assert page.input_value("#diff-from") == "1" and page.input_value("#diff-to") == "2"
    shot(page, "revisions_1_2")
    # And the other way round, from the page's own selectors.
    page.select_option("#diff-from", "2")
    page.select_option("#diff-to", "1")
    page.click("#compare-button")
    page.wait_for_url("**/diff/?from=2&to=1")
    assert limit_row(page).locator("td.diff-after code").inner_text() == "string"


def test_restore_with_preview(page, server):
    user = staff_member(username="diff-restorer")
    draft = notes_draft(user)
    login(page, server.url, "diff-restorer")
    page.goto(server.url + url("history", draft.pk))
    page.click("a.restore-link:has-text('Restore revision 1')")
    page.wait_for_selector("#confirm-restore")
    row = limit_row(page)
    assert row.locator("td.diff-before code").inner_text() == "integer"
    assert row.locator("td.diff-after code").inner_text() == "string"
    assert "Version kept at 1.3.0 (revision 1 had 1.2.0)" in page.inner_text("#restore-summary")
    assert WorkbenchDraft.objects.get(pk=draft.pk).revision == 3  # the preview wrote nothing
    shot(page, "restore_preview")
    page.click("#confirm-restore")
    page.wait_for_selector("#draft-card")
    assert page.inner_text("#draft-revision") == "4"
    assert "Revision 1 restored as revision 4" in page.inner_text(".messagelist")
    shot(page, "restored_card")
    restored = WorkbenchDraft.objects.get(pk=draft.pk)
    assert restored.version == "1.3.0"
    assert restored.spec_snapshot["tools"][0]["inputSchema"]["properties"]["limit"]["type"] == "string"


def test_bulk_validate(page, server):
    user = staff_member(username="diff-validator")
    tenant = user.memberships.get().tenant
    passing = WorkbenchDraftFactory(tenant=tenant, connector_id="passes")
    failing = WorkbenchDraftFactory(
        tenant=tenant, connector_id="fails", policy_snapshot={"firearms": {}, "kpis": {}}
    )
    login(page, server.url, "diff-validator")
    page.goto(server.url + url("changelist"))
    for draft in (passing, failing):
        page.check(f"input.action-select[value='{draft.pk}']")
    page.select_option("select[name=action]", "validate_selected")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    # Each message shows the draft's id as it is (the admin capitalises a message's first letter: the
    # message starts with "Draft", not with the id).
    messages = [text.strip() for text in page.locator(".messagelist li").all_text_contents()]
    assert f"Draft {passing.pk}: revision 1 passed validation (1 warning)." in messages, messages
    failed = f"Draft {failing.pk}: revision 1 failed validation: "
    assert any(m.startswith(failed) for m in messages), messages
    shot(page, "bulk_validate")
    assert WorkbenchDraft.objects.get(pk=passing.pk).validation_passed is True
    assert WorkbenchDraft.objects.get(pk=failing.pk).validation_passed is False
