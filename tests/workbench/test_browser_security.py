"""The admin and the API docs in a real browser under the Content-Security-Policy: no page reports a
violation (the browser kit fails any test whose page does, so every browser test checks its own pages
too), and the API docs still work: Swagger UI and Redoc render the schema. Screenshots: security_*.png."""

import pytest
from django.contrib.admin.utils import quote

from tests.registries.factories import ToolDefinitionFactory, ToolReceiptFactory, published_connector
from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import browser_marks, login, shot
from tests.workbench.factories import MembershipFactory, SuperuserFactory, WorkbenchDraftFactory

pytestmark = browser_marks

VIOLATION_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def admin_page(page, server):
    page.add_init_script(VIOLATION_LISTENER)
    admin = SuperuserFactory(username="csp-admin")
    MembershipFactory(user=admin)
    login(page, server.url, "csp-admin")
    return page


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == [], url
    assert page.csp_violations == [], url
    return response


def test_the_main_admin_pages_report_no_policy_violation(admin_page, server):
    base = server.url
    user = admin_page_user()
    draft = WorkbenchDraftFactory(owner=user, tenant=user.memberships.first().tenant)
    tool = ToolDefinitionFactory(name="csp.probe")
    ToolReceiptFactory(tool_name=tool.name)
    connector = published_connector("csp-connector")
    pages = [
        "/admin/",
        "/admin/workbench/workbenchdraft/",
        # Admin URLs carry the id quoted: "draft_40af…" unquoted would read "_40" as "@".
        f"/admin/workbench/workbenchdraft/{quote(draft.pk)}/change/",
        f"/admin/workbench/workbenchdraft/{quote(draft.pk)}/history/",
        "/admin/registries/tooldefinition/",
        f"/admin/registries/tooldefinition/{tool.pk}/change/",
        "/admin/registries/toolreceipt/",
        "/admin/registries/connector/",
        f"/admin/registries/connector/{connector.pk}/change/",
        "/admin/policies/firearm/",
        "/admin/policies/firearm/add/",
        "/admin/auth/user/",
        "/admin/workbench/tsvexchange/",
    ]
    for path in pages:
        response = visit(admin_page, f"{base}{path}")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    shot(admin_page, "security_admin_page", full_page=False)


def admin_page_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="csp-admin")


def test_swagger_ui_and_redoc_render_under_the_policy(admin_page, server):
    base = server.url
    visit(admin_page, f"{base}/api/docs/")
    admin_page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert admin_page.locator(".swagger-ui .opblock").count() > 10
    assert admin_page.evaluate("window.__cspViolations") == []
    shot(admin_page, "security_swagger")

    admin_page.goto(f"{base}/api/redoc/")
    admin_page.wait_for_selector(".api-content", timeout=30_000)
    admin_page.wait_for_load_state("networkidle")
    assert admin_page.locator(".api-content h2").count() > 3
    # Redoc's "API docs by Redocly" logo is an image on cdn.redoc.ly: the policy refuses it (nothing is
    # loaded from outside) and the page works without it. Nothing else is refused.
    violations = admin_page.evaluate("window.__cspViolations")
    assert set(violations) <= {"img-src https://cdn.redoc.ly/redoc/logo-mini.svg"}, violations
    assert all("cdn.redoc.ly" in text for text in admin_page.csp_violations), admin_page.csp_violations
    admin_page.csp_violations.clear()
    shot(admin_page, "security_redoc")
