"""Security headers on the admin's and the API's answers (settings: CONTENT_SECURITY_POLICY, Referrer-
Policy, nosniff, frame denial), and production's secure cookies and HSTS with `check --deploy` clean."""

import json

import pytest

from tests.workbench.factories import UserFactory, token_client
from tests.workbench.test_settings import PRODUCTION, run_python

pytestmark = pytest.mark.django_db

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def policy_of(response):
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    return policy


def assert_secure_headers(response):
    policy = policy_of(response)
    for name, value in DIRECTIVES.items():
        assert policy[name] == value, (name, policy)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_admin_pages_carry_the_policy_and_headers(client, admin_user):
    assert_secure_headers(client.get("/admin/login/"))
    client.force_login(admin_user)
    for path in ["/admin/", "/admin/workbench/workbenchdraft/", "/admin/registries/tooldefinition/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response)


def test_api_answers_carry_the_headers_errors_included():
    api = token_client(UserFactory(perms=["registries.view_tooldefinition"]))
    assert_secure_headers(api.get("/api/v1/tools/"))
    refused = api.get("/api/v1/drafts/")
    assert refused.status_code == 403
    assert_secure_headers(refused)
    assert_secure_headers(api.get("/api/v1/no-such-thing/"))


def test_the_api_docs_pages_need_no_inline_script(client):
    swagger = client.get("/api/docs/")
    assert_secure_headers(swagger)
    html = swagger.content.decode()
    # Every <script> has a src (the split view's start-up script is ?script of the same page), no inline
    # <style>, nothing from another site.
    assert html.count("<script") == html.count("<script src=") >= 3
    assert "<style" not in html and "https://" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()

    redoc = client.get("/api/redoc/")
    html = redoc.content.decode()
    assert html.count("<script") == html.count("<script src=")
    assert "<style" not in html and "fonts.googleapis.com" not in html
    policy = policy_of(redoc)
    # Redoc's page alone allows inline style and blob: workers (workbench/api/docs.py); scripts stay 'self'.
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert "blob:" in policy["worker-src"]


def test_no_admin_template_or_admin_python_writes_inline_script_style_or_handlers():
    """The pages must work under the policy: static files only, never markup the policy refuses."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = [
        *root.glob("*/templates/**/*.html"),
        *root.glob("*/admin/**/*.py"),
        *root.glob("*/kit/admin/*.py"),
    ]
    assert files
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
    for path in files:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(root)
        assert not inline_script.search(text), where
        assert not handler.search(text), where
        assert "javascript:" not in text.lower(), where
        assert " style=" not in text and "<style" not in text, where


PRODUCTION_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "SECURE_SSL_REDIRECT"]}))
"""


def test_production_has_secure_cookies_hsts_and_check_deploy_is_clean():
    result = run_python(["-c", PRODUCTION_SETTINGS], PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    deploy = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "no issues" in deploy.stdout


@pytest.mark.parametrize("rate", ["fast", "10/fortnight", "0x10/min", "-1/min", "10 / min"])
def test_a_rate_that_is_no_rate_is_refused_at_start(rate):
    result = run_python(["manage.py", "check"], {"DJANGO_DEBUG": "1", "WORKBENCH_RATE_INVOKE": rate})
    assert result.returncode != 0
    assert "WORKBENCH_RATE_INVOKE" in result.stderr


def test_rates_come_from_the_environment_and_off_turns_one_off():
    show = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.WORKBENCH_RATES, settings.WORKBENCH_TENANT_RATES]))"
    )
    env = {"DJANGO_DEBUG": "1", "WORKBENCH_RATE_READ": "50/s", "WORKBENCH_TENANT_RATE_WRITE": "off"}
    result = run_python(["-c", show], env)
    assert result.returncode == 0, result.stderr
    token, tenant = json.loads(result.stdout)
    assert token == {"read": "50/s", "write": "300/min", "invoke": "120/min"}
    assert tenant == {"read": "6000/min", "write": None, "invoke": "600/min"}
