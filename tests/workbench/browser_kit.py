"""What every browser test shares (Playwright driving Debian's Chromium): the live server, a page, log in
as a user, and screenshots kept in $TEST_ARTIFACTS_DIR (default: artifacts/browser/) as test artifacts.

A browser test module does `from tests.workbench.browser_kit import *` for the fixtures and marks, and
uses `login`, `shot` and `sync_api` from here."""

import os
import shutil
from pathlib import Path

import pytest

# CI installs playwright and Debian's chromium: there a missing browser is a failure, not a skip.
IN_CI = bool(os.environ.get("CI"))
if IN_CI:
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "artifacts" / "browser")
)
PASSWORD = "pw-for-tests"  # what tests.workbench.factories gives every user

browser_marks = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM and not IN_CI, reason="Chromium is not installed (apt install chromium)"),
]

__all__ = ["browser_live_server", "server", "page", "browser_marks", "login", "shot", "sync_api", "ARTIFACTS"]


@pytest.fixture(scope="session")
def browser_live_server(django_db_setup, live_server, django_db_blocker):
    """pytest-django's session live server. Its request threads may still hold a PostgreSQL session
    after the run (the browser's keep-alive connection), which would block dropping the test database
    at the end: end those sessions then. Only at the end of the session: ended after each module, they
    took the connection a later browser module's test was using (its ORM calls inside Playwright's
    sync API use another connection than this finalizer's)."""
    yield live_server
    with django_db_blocker.unblock():
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(scope="module")
def server(browser_live_server):
    return browser_live_server


@pytest.fixture
def page(server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are test setup.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        assert CHROMIUM, "Chromium is not installed: .ci/run installs Debian's chromium"
        # Without the background-networking flags Chromium keeps dialling out on this closed network.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(20_000)
        # Every page a browser test opens runs under the Content-Security-Policy: Chromium reports each
        # refused script, style or frame on the console, and any such report fails the test.
        violations = []
        page.on("console", lambda message: csp_violation(message.text, violations))
        page.csp_violations = violations
        yield page
        context.close()
        browser.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def csp_violation(text, violations):
    if "Content Security Policy" in text:
        violations.append(text)


def login(page, base, username, password=PASSWORD):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def shot(page, name, full_page=False):
    """A screenshot kept as a test artifact: artifacts/browser/<name>.png."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
