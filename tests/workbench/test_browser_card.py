"""The draft card in a real browser (Playwright driving Debian's Chromium): the version typed is the one
saved, a failed save is announced at the top with every typed value kept, a 3-scope draft built with the
grid alone (scopes and a tool added in the page), and a viewer's card as text. Each keeps a screenshot."""

from tests.policies.factories import FirearmFactory
from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.drafts_admin_kit import staff_member, url
from tests.workbench.factories import WorkbenchDraftFactory, draft_spec, draft_tool

pytestmark = browser_marks


def shot(page, name):
    keep_screenshot(page, f"card_{name}", full_page=True)


def open_card(page, server, username, draft):
    login(page, server.url, username)
    page.goto(server.url + url("change", draft.pk))
    page.wait_for_selector("#draft-card")


def imported_draft(tenant, tools=6):
    spec = draft_spec(
        "notes", tools=[draft_tool(f"tool_{i}", read_only=i < 3) for i in range(tools)], scopes=[]
    )
    return WorkbenchDraftFactory(
        tenant=tenant, connector_id="notes", spec_snapshot=spec, policy_snapshot={"firearms": {}, "kpis": {}}
    )


def test_version_edit_saved(page, server):
    editor = staff_member(username="card-editor")
    draft = WorkbenchDraftFactory(tenant=editor.memberships.get().tenant)
    open_card(page, server, "card-editor", draft)
    page.fill("#id_version", "1.3.0")
    page.fill("#id_reason", "bump to 1.3.0")
    page.click("#save-button")
    page.wait_for_selector(".messagelist")
    assert page.input_value("#id_version") == "1.3.0"
    shot(page, "version_saved")
    draft.refresh_from_db()
    assert draft.version == "1.3.0" and draft.revision == 2


def test_a_failed_save_is_announced_at_the_top_with_values_kept(page, server):
    editor = staff_member(username="card-typo")
    draft = WorkbenchDraftFactory(tenant=editor.memberships.get().tenant)
    open_card(page, server, "card-typo", draft)
    page.fill("#id_version", "1.4.0")
    page.fill("[name='s0.n']", "Admin Write")
    page.check("[name='t1.0']")  # get_file_contents into the first scope
    page.fill("[name='t0.t']", "Delete a file")
    page.click("#save-button")
    summary = page.wait_for_selector("#error-summary")
    assert summary.inner_text().startswith("Please correct the 1 error below.")
    box = summary.bounding_box()
    assert box["y"] < 400  # at the top, where people look
    assert page.locator("#error-summary a").get_attribute("href") == "#c0"
    assert page.input_value("#id_version") == "1.4.0"
    assert page.input_value("[name='s0.n']") == "Admin Write"
    assert page.input_value("[name='t0.t']") == "Delete a file"
    assert page.is_checked("[name='t1.0']")
    shot(page, "failed_save_summary")
    draft.refresh_from_db()
    assert draft.revision == 1


def test_building_a_3_scope_draft_from_an_import_using_the_grid_only(page, server):
    FirearmFactory(firearm_id="firearm.external_write")
    editor = staff_member(username="card-builder")
    draft = imported_draft(editor.memberships.get().tenant)
    open_card(page, server, "card-builder", draft)
    page.click("#add-tool")
    page.fill("[name='t6.n']", "purge_all")
    for index, (name, firearm) in enumerate(
        [("read", "__none__"), ("write", "firearm.external_write"), ("purge", "firearm.external_write")]
    ):
        page.click("#add-scope")
        page.fill(f"[name='s{index}.n']", name)
        page.select_option(f"[name='s{index}.f']", firearm)
    for row in range(3):
        page.check(f"[name='t{row}.0']")
    for row in (3, 4, 5):
        page.check(f"[name='t{row}.1']")
    page.check("[name='t6.2']")
    assert page.text_content("#c1 .chips") == "firearm.external_write"
    shot(page, "grid_built")
    page.click("#save-button")
    page.wait_for_selector(".messagelist")
    shot(page, "grid_saved")
    draft.refresh_from_db()
    assert [(scope["name"], scope["tools"]) for scope in draft.spec_snapshot["scopes"]] == [
        ("read", ["tool_0", "tool_1", "tool_2"]),
        ("write", ["tool_3", "tool_4", "tool_5"]),
        ("purge", ["purge_all"]),
    ]
    assert draft.policy_snapshot["firearms"] == {
        "read": None, "write": "firearm.external_write", "purge": "firearm.external_write"
    }
    assert draft.spec_snapshot["tools"][6] == {"name": "purge_all", "inputSchema": {"type": "object"}}


def test_viewer_read_only(page, server):
    draft = WorkbenchDraftFactory()
    viewer = staff_member(tenant=draft.tenant, username="card-viewer")
    viewer.memberships.update(role="viewer")
    open_card(page, server, "card-viewer", draft)
    assert "changing it needs the editor or owner role" in page.inner_text("#read-only-reason")
    editable = page.eval_on_selector_all(
        "#draft-card-form input:not([type=hidden]), #draft-card-form select, #draft-card-form textarea",
        "controls => controls.filter(c => !c.disabled).length",
    )
    assert editable == 0
    assert page.locator("#save-button").count() == 0 and page.locator("#add-scope").count() == 0
    assert "delete_file" in page.inner_text("#grid")
    shot(page, "viewer_read_only")
