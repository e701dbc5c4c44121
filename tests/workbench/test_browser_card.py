"""The draft card in a real browser (Playwright driving Debian's Chromium): the version typed is the one
saved, a failed save is announced at the top with every typed value kept, a 3-scope draft built with the
grid alone (scopes and a tool added in the page), and a viewer's card as text. Each keeps a screenshot."""

import json

from tests.policies.factories import FirearmFactory
from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.drafts_admin_kit import PERMS, staff_member, url
from tests.workbench.factories import WorkbenchDraftFactory, draft_tool
from workbench.models import WorkbenchDraft

pytestmark = browser_marks


def shot(page, name):
    keep_screenshot(page, f"card_{name}", full_page=True)


def open_card(page, server, username, draft):
    login(page, server.url, username)
    page.goto(server.url + url("change", draft.pk))
    page.wait_for_selector("#draft-card")


def tools_list(count=6):
    """A tools/list result: three read-only tools, then tools that say nothing about destruction."""
    return {"result": {"tools": [draft_tool(f"tool_{i}", read_only=i < 3) for i in range(count)]}}


def import_draft(page, server, username):
    """Import a tools/list on the MCP import page (no package) and land on the new draft's card."""
    login(page, server.url, username)
    page.goto(server.url + url("import_mcp"))
    page.fill("#id_connector_id", "notes")
    page.select_option("#id_registry_type", "")
    page.fill("#id_tools_json", json.dumps(tools_list()))
    page.click("input[type=submit][value=Import]")
    page.wait_for_selector("#draft-card")
    return WorkbenchDraft.objects.get(connector_id="notes")


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
    page.check("[name='s1.z']")  # remove the second scope
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
    assert page.is_checked("[name='s1.z']")
    assert page.eval_on_selector("#c1", "head => head.classList.contains('del')")
    shot(page, "failed_save_summary")
    draft.refresh_from_db()
    assert draft.revision == 1


def test_building_a_3_scope_draft_from_an_import_using_the_grid_only(page, server):
    FirearmFactory(firearm_id="firearm.external_write")
    staff_member(username="card-builder")
    draft = import_draft(page, server, "card-builder")
    # The import proposed a column per kind of tool; the rest is done in the grid.
    assert [page.input_value(f"[name='s{j}.n']") for j in range(2)] == ["read_only", "destructive"]
    page.click("#add-tool")
    page.fill("[name='t6.n']", "purge_all")
    page.click("#add-scope")
    page.fill("[name='s2.n']", "purge")
    page.check("[name='t6.2']")
    for index, firearm in enumerate(["__none__", "firearm.external_write", "firearm.external_write"]):
        page.select_option(f"[name='s{index}.f']", firearm)
    page.uncheck("[name='t2.0']")
    page.check("[name='t2.1']")
    assert page.text_content("#c1 .chips") == "firearm.external_write"
    # A scope added and then removed greys its whole column and is not saved.
    page.click("#add-scope")
    page.fill("[name='s3.n']", "spare")
    page.check("[name='s3.z']")
    assert page.eval_on_selector("#c3", "head => head.classList.contains('del')")
    assert page.eval_on_selector("#t0", "row => row.cells[9 + 3].classList.contains('del')")
    # Unticking read-only on a tool that does not set destructiveHint shows what it now counts as.
    assert not page.is_checked("[name='t0.x']")
    page.uncheck("[name='t0.r']")
    assert page.is_checked("[name='t0.x']")
    # A stored tool's schema editor is filled when opened.
    assert page.locator("[name='t1.s']").count() == 0
    page.click("#t1 summary")
    editor = page.wait_for_selector("[name='t1.s']")
    assert json.loads(editor.input_value()) == {"type": "object", "properties": {}}
    editor.fill('{"type":"object","properties":{"q":{"type":"string"}}}')
    # Every text input of a row has a name a screen reader reads; tool names stay in view across scopes.
    assert page.get_by_role("textbox", name="Name", exact=True).count() == 7
    assert page.get_by_role("textbox", name="Input schema", exact=True).count() == 2
    page.eval_on_selector(".grid-wrap", "wrap => { wrap.scrollLeft = wrap.scrollWidth; }")
    offset = page.eval_on_selector(
        ".grid-wrap",
        "wrap => wrap.querySelector('tbody th').getBoundingClientRect().left"
        " - wrap.getBoundingClientRect().left",
    )
    assert abs(offset) < 3
    shot(page, "grid_built")
    page.click("#save-button")
    page.wait_for_selector(".messagelist")
    shot(page, "grid_saved")
    draft.refresh_from_db()
    assert [(scope["name"], scope["tools"]) for scope in draft.spec_snapshot["scopes"]] == [
        ("read_only", ["tool_0", "tool_1"]),
        ("destructive", ["tool_2", "tool_3", "tool_4", "tool_5"]),
        ("purge", ["purge_all"]),
    ]
    assert draft.policy_snapshot["firearms"] == {
        "read_only": None, "destructive": "firearm.external_write", "purge": "firearm.external_write"
    }
    tools = draft.spec_snapshot["tools"]
    assert tools[0]["annotations"] == {"readOnlyHint": False}  # counts as destructive, as it showed
    assert tools[1]["inputSchema"] == {"type": "object", "properties": {"q": {"type": "string"}}}
    assert tools[2]["inputSchema"] == {"type": "object", "properties": {}}
    assert tools[6] == {"name": "purge_all", "inputSchema": {"type": "object"}}


def test_viewer_read_only(page, server):
    draft = WorkbenchDraftFactory()
    # Holding the publish permission opens no Publish button on a draft the viewer may only view.
    viewer = staff_member(tenant=draft.tenant, username="card-viewer",
                          perms=[*PERMS, "workbench.publish_workbenchdraft"])
    viewer.memberships.update(role="viewer")
    open_card(page, server, "card-viewer", draft)
    assert "changing it needs the editor or owner role" in page.inner_text("#read-only-reason")
    editable = page.eval_on_selector_all(
        "#draft-card-form input:not([type=hidden]), #draft-card-form select, #draft-card-form textarea",
        "controls => controls.filter(c => !c.disabled).length",
    )
    assert editable == 0
    assert page.locator("#save-button").count() == 0 and page.locator("#add-scope").count() == 0
    assert page.locator("#publish-button").count() == 0
    assert "delete_file" in page.inner_text("#grid")
    shot(page, "viewer_read_only")
