"""Try this tool, the connector page and the dashboard in a real browser (Playwright driving Debian's
Chromium): try a tool twice without a 422, then replay the last call; start the next version of a
connector from its page; the dashboard's coverage bars and quick links. Screenshots are kept in
$TEST_ARTIFACTS_DIR (default: artifacts/browser/) as test artifacts."""

import base64
import json

from registries.models import Task, ToolDefinition, ToolReceipt
from tests.policies.factories import FirearmBindingFactory, FirearmFactory, KpiToolBindingFactory
from tests.registries.factories import published_connector
from tests.registries.gateway_kit import load_seed_registry
from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login
from tests.workbench.browser_kit import shot as keep_screenshot
from tests.workbench.exchange_kit import golden_registry
from tests.workbench.factories import MembershipFactory, SuperuserFactory, TenantFactory
from workbench.models import WorkbenchDraft

pytestmark = browser_marks


def shot(page, name, full_page=False):
    keep_screenshot(page, f"tools_{name}", full_page=full_page)


def pixels(page, locator, points):
    """RGB of `locator`'s screenshot at each (x, y) given as fractions of its size (read in a canvas)."""
    png = base64.b64encode(locator.screenshot()).decode()
    return page.evaluate(
        """async ([png, points]) => {
            const image = new Image();
            image.src = "data:image/png;base64," + png;
            await image.decode();
            const canvas = document.createElement("canvas");
            canvas.width = image.width; canvas.height = image.height;
            const context = canvas.getContext("2d");
            context.drawImage(image, 0, 0);
            return points.map(([x, y]) => Array.from(
                context.getImageData(Math.floor(x * image.width), Math.floor(y * image.height), 1, 1).data
            ).slice(0, 3));
        }""",
        [png, points],
    )


def invoke(page, title):
    page.fill("#id_input", json.dumps({"title": title}))
    page.click("#try-invoke input[name=invoke]")
    page.wait_for_selector("#try-call")
    return page.inner_text("#try-call")


def test_try_this_tool_twice_without_a_422_then_replay(page, server):
    load_seed_registry()
    MembershipFactory(user=SuperuserFactory(username="tool-tryer"))  # one tenant: the calls are made for it
    tool = ToolDefinition.objects.get(name="os.create_task")  # idempotency none: every call runs
    base = server.url
    login(page, base, "tool-tryer")

    page.goto(f"{base}/admin/registries/tooldefinition/{tool.pk}/change/")
    page.click("text=Try this tool")
    page.wait_for_selector("#try-invoke")
    first = invoke(page, "first task")
    assert first.startswith("New call admin-") and page.is_visible("#try-outcome")
    shot(page, "1_first_call", full_page=True)

    second = invoke(page, "second task")  # another input: before the fix, the same call id and a 422
    assert second.startswith("New call admin-") and second != first
    assert page.query_selector(".errornote") is None, page.inner_text(".errornote")
    assert "Executed" in page.inner_text("#try-outcome h2")
    shot(page, "2_second_call", full_page=True)
    second_id = second.removeprefix("New call ").rstrip(".")
    assert sorted(Task.objects.values_list("title", flat=True)) == ["first task", "second task"]

    page.click("#try-replay input[name=replay]")
    page.wait_for_selector("#try-call")
    assert page.inner_text("#try-call").startswith(f"Replay of call {second_id}")
    assert "Executed again" in page.inner_text("#try-outcome h2")  # a none tool runs again
    assert page.query_selector(".errornote") is None
    shot(page, "3_replayed", full_page=True)
    assert ToolReceipt.objects.filter(call_id=second_id).count() == 2


def test_replaying_a_safe_retry_call_answers_from_its_receipt(page, server):
    load_seed_registry()
    MembershipFactory(user=SuperuserFactory(username="tool-replayer"))
    tool = ToolDefinition.objects.get(name="leads.get")
    base = server.url
    login(page, base, "tool-replayer")
    page.goto(f"{base}/admin/registries/tooldefinition/{tool.pk}/try/")
    page.fill("#id_input", json.dumps({"phone": "+15550100"}))
    page.click("#try-invoke input[name=invoke]")
    page.wait_for_selector("#try-replay")
    page.click("#try-replay input[name=replay]")
    page.wait_for_selector("#try-outcome")
    assert "Replayed an earlier call's result" in page.inner_text("#try-outcome h2")
    shot(page, "4_safe_retry_replayed", full_page=True)
    assert ToolReceipt.objects.count() == 1


def test_the_connector_page_and_its_next_version(page, server):
    acme = TenantFactory(slug="acme")
    admin = SuperuserFactory(username="connector-admin")
    MembershipFactory(user=admin, tenant=acme)
    scopes = ("admin_write", "read_public")
    github = published_connector("github", ("1.0.0", "1.1.0"), scopes=scopes, owner=acme)
    firearm = FirearmFactory(firearm_id="firearm.external_write")
    FirearmBindingFactory(action_name="github:admin_write", firearm=firearm)
    KpiToolBindingFactory(action_name="github:admin_write", kpi__kpi_id="kpi.change_failure_rate")
    base = server.url
    login(page, base, "connector-admin")

    page.goto(f"{base}/admin/registries/connector/{github.pk}/change/")
    scopes = page.inner_text("table.connector-scopes")
    assert "firearm.external_write" in scopes and "kpi.change_failure_rate" in scopes and "NONE" in scopes
    shot(page, "5_connector_page", full_page=True)
    page.click("text=Start next version")
    page.wait_for_selector(".messagelist")
    draft = WorkbenchDraft.objects.get()
    assert draft.version == "1.1.1" and f"/{draft.pk}/change/" in page.url.replace("_5F", "_")
    shot(page, "6_next_version_draft")


def test_the_dashboard_bars_and_quick_links(page, server):
    golden_registry()  # routes DONE, PARTIAL (50%, a missing dependency) and MISSING
    admin = SuperuserFactory(username="dashboard-admin")
    MembershipFactory(user=admin, tenant=TenantFactory(slug="acme"))
    base = server.url
    login(page, base, "dashboard-admin")
    chat = page.locator("#wb-coverage tr", has_text="/chat/*")
    bar = chat.locator("progress.wb-bar")
    assert bar.get_attribute("value") == "50" and "50%" in chat.inner_text()
    box = bar.bounding_box()
    assert box and box["width"] >= 100 and box["height"] >= 8  # a bar a person can see
    # What Chromium painted: the filled half in the PARTIAL colour of dashboard.css, the rest the track.
    left, right = pixels(page, bar, [(0.25, 0.5), (0.75, 0.5)])
    assert left == [0x9A, 0x5B, 0x00] and right == [0xE8, 0xE8, 0xE8], (left, right)
    assert "no wrapper" in page.inner_text("#wb-coverage")
    links = page.inner_text("#wb-quick-links")
    assert "Start a draft" in links and "Import from an MCP server" in links and "Import a TSV" in links
    shot(page, "7_dashboard", full_page=True)
