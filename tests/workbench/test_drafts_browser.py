"""The whole draft flow in a real browser (Playwright driving Debian's Chromium): log in, import a
tools list, set firearm decisions, validate, publish, see the connector live. Screenshots of every step
are kept in $TEST_ARTIFACTS_DIR (default: artifacts/browser/) as test artifacts."""

import json

from registries.models import Connector
from tests.policies.factories import FirearmFactory
from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import ARTIFACTS, browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.factories import MembershipFactory, SuperuserFactory, draft_tool

pytestmark = browser_marks


def server_tools(count=120):
    """A tools/list of a GitHub-like server: read-only, write and destructive tools (some unannotated)."""
    tools = []
    for index in range(count):
        kind = index % 3
        name = ["get_item", "update_item", "delete_item"][kind] + f"_{index}"
        if kind == 0:
            tools.append(draft_tool(name, read_only=True))
        elif kind == 1:
            tools.append(draft_tool(name, destructive=False))
        else:
            tool = draft_tool(name)
            tool.pop("annotations")  # no hints at all: counts as destructive
            tools.append(tool)
    return {"jsonrpc": "2.0", "id": 1, "result": {"tools": tools}}


def shot(page, name, full_page=False):
    keep_screenshot(page, f"drafts_{name}", full_page=full_page)


def test_import_decide_validate_publish_and_see_the_connector_live(page, server):
    FirearmFactory(firearm_id="firearm.external_write")
    admin = SuperuserFactory(username="browser-admin")
    tenant = MembershipFactory(user=admin).tenant
    base = server.url

    login(page, base, "browser-admin")

    page.goto(f"{base}/admin/workbench/workbenchdraft/")
    page.click("text=Import from MCP server")
    page.select_option("#id_tenant", str(tenant.pk))
    page.fill("#id_connector_id", "github")
    page.fill("#id_name", "GitHub")
    page.fill("#id_version", "1.0.0")
    page.select_option("#id_registry_type", "npm")
    page.fill("#id_identifier", "@acme/github-mcp")
    page.fill("#id_package_version", "1.0.0")
    page.fill("#id_tools_json", json.dumps(server_tools()))
    shot(page, "1_import")
    page.click("input[type=submit][value=Import]")
    page.wait_for_selector("#draft-card")
    assert "Imported 120 tools" in page.content()
    shot(page, "2_card_imported")

    page.click("#save-validate-button")
    page.wait_for_selector("#validation-verdict")
    assert page.inner_text("#validation-verdict") == "failed"
    assert page.locator("#findings").inner_text().count("has no firearm decision") == 3
    # An import starts at scoping: its tools are its definition; the decisions belong to the next stage.
    assert page.inner_text("#stage-path [aria-current=step]").startswith("2. scoping")
    assert page.inner_text("#stage-lacks").startswith("Stage scoping lacks nothing")
    shot(page, "3_validation_lists_missing_decisions")

    decisions = {
        "read_only": "__none__",
        "write": "firearm.external_write",
        "destructive": "firearm.external_write",
    }
    for index in range(3):
        name = page.input_value(f"[name='s{index}.n']")
        page.select_option(f"[name='s{index}.f']", decisions[name])
    # The stage select offers the moves the path allows: back, stay, or one forward.
    offered = page.eval_on_selector_all("#id_stage option", "options => options.map(o => o.value)")
    assert offered == ["definition", "scoping", "policy"]
    page.select_option("#id_stage", "policy")
    page.fill("#id_reason", "firearm decisions")
    page.click("#save-validate-button")
    page.wait_for_selector("#validation-verdict")
    assert page.inner_text("#validation-verdict") == "passed"
    shot(page, "4_validated", full_page=True)
    page.locator("#tools").screenshot(path=str(ARTIFACTS / "drafts_4b_scopes.png"))

    # Publish happens only from verification: at policy the confirmation says the publish would be
    # refused and why, and offers no "Yes, publish" (every selected draft would be refused).
    page.click("#publish-button")
    page.wait_for_selector("#confirm-publish")
    assert "publish happens only from verification" in page.inner_text(".publish-refused")
    assert page.is_disabled("#confirm-publish")
    assert not Connector.objects.filter(connector_id="github").exists()

    page.goto(f"{base}/admin/workbench/workbenchdraft/")
    page.click("#result_list a[href*='/change/']")
    page.wait_for_selector("#draft-card")
    page.select_option("#id_stage", "verification")
    page.fill("#id_reason", "ready")
    page.click("#save-validate-button")
    page.wait_for_selector("#validation-verdict")
    assert page.inner_text("#validation-verdict") == "passed"
    assert page.inner_text("#stage-path [aria-current=step]").startswith("4. verification")

    page.click("#publish-button")
    page.wait_for_selector("#confirm-publish")
    assert "scope destructive added with 40 tools" in page.content()
    shot(page, "5_publish_confirmation")
    page.click("#confirm-publish")
    page.wait_for_selector("text=published github 1.0.0")

    page.goto(f"{base}/admin/registries/connector/")
    assert "github" in page.inner_text("#result_list")
    shot(page, "6_connector_live")
    connector = Connector.objects.get(connector_id="github")
    assert connector.latest_spec.version == "1.0.0" and connector.scopes.count() == 3
