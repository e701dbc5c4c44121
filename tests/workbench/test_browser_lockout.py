"""The lockout page in a real browser, under the Content-Security-Policy: after the failure limit the
admin's sign-in page says why and when to try again, the right password included (screenshot kept)."""

from django.conf import settings

from tests.workbench.browser_kit import *  # noqa: F403 (the browser fixtures)
from tests.workbench.browser_kit import PASSWORD, browser_marks, login, shot
from tests.workbench.factories import StaffFactory, SuperuserFactory
from workbench.services.accounts import account_unlock

pytestmark = browser_marks


def submit(page, base, username, password):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")


def test_the_locked_out_sign_in_page_says_why_and_the_right_password_waits(page, server):
    StaffFactory(username="alice")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        submit(page, server.url, "alice", "wrong")
        assert "Please enter the correct username and password" in page.inner_text("#content")
    submit(page, server.url, "alice", "wrong")
    message = page.inner_text("#lockout-message")
    assert message == (
        f"Too many failed attempts; try again in {settings.WORKBENCH_LOGIN_COOLOFF_MINUTES} minutes "
        "or ask an administrator to unlock it."
    )
    submit(page, server.url, "alice", PASSWORD)
    assert page.is_visible("#lockout-message")
    assert page.input_value("#id_username") == "alice"
    assert page.url.endswith("/admin/login/")
    shot(page, "lockout_sign_in")
    # Unlocked by an administrator, alice signs in at once (her failures were the address's only ones).
    account_unlock(user=SuperuserFactory(), username="alice")
    login(page, server.url, "alice")
