"""The runner's own limits (issue 16 review): a server serving more tools than a probe reads is refused,
not stored in part; the installer gets an allowlisted environment, never the worker's secrets. No
database needed."""

import pytest

from tests.workbench.probing_kit import local, needs_bwrap, probe
from workbench.probing import client, install


@needs_bwrap
def test_a_server_serving_more_tools_than_the_cap_fails_the_probe(tmp_path, monkeypatch):
    monkeypatch.setattr(client, "MAX_TOOLS", 2)  # the normal server serves 3, over two pages
    outcome = probe(tmp_path, local("normal"))
    assert not outcome.ok
    assert outcome.reason == "the server served more than 2 tools"
    assert outcome.tools == []


@needs_bwrap
def test_a_server_serving_more_tool_bytes_than_the_cap_fails_the_probe(tmp_path, monkeypatch):
    monkeypatch.setattr(client, "MAX_TOOLS_BYTES", 300)  # one tool's JSON is about 250 bytes
    outcome = probe(tmp_path, local("normal"))
    assert not outcome.ok
    assert outcome.reason.startswith("the server served more than ")
    assert outcome.reason.endswith("of tools (as JSON)")


def test_the_default_caps():
    assert client.MAX_TOOLS == 2000
    assert client.MAX_TOOLS_BYTES == 4 * 1024 * 1024


@pytest.mark.parametrize(
    "name",
    ["DATABASE_URL", "DJANGO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN",
     "WORKBENCH_PROBE_CACHE_DIR", "SENTRY_DSN", "REDIS_URL", "PGPASSWORD",
     "MY_COMPANY_CREDENTIALS", "PYTHONPATH", "LD_PRELOAD"],
)
def test_the_installer_env_passes_nothing_off_the_allowlist(monkeypatch, name):
    monkeypatch.setenv(name, "secret-value")
    env = install.installer_env()
    assert name not in env
    assert "secret-value" not in env.values()


@pytest.mark.parametrize(
    "name",
    ["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PIP_INDEX_URL", "PIP_CERT",
     "NPM_CONFIG_REGISTRY", "npm_config_registry", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "https_proxy",
     "SSL_CERT_FILE",
     "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"],
)
def test_the_installer_env_passes_what_finds_the_clients_and_registries(monkeypatch, name):
    monkeypatch.setenv(name, "value-of-it")
    assert install.installer_env()[name] == "value-of-it"


def test_the_installer_env_sets_non_interactive_installs(monkeypatch):
    env = install.installer_env()
    assert env["PIP_NO_INPUT"] == "1" and env["npm_config_update_notifier"] == "false"


UNISOLATED = "WORKBENCH_PROBE_ALLOW_UNISOLATED"


def _load_settings(**env):
    import os
    import subprocess
    import sys

    base = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "WORKBENCH_"))}
    base.update(DJANGO_SETTINGS_MODULE="workbench.settings", DJANGO_SECRET_KEY="k" * 50, **env)
    return subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{UNISOLATED})"],
        env=base, capture_output=True, text=True, timeout=60,
    )


def test_running_packages_unisolated_is_refused_at_start_outside_debug():
    refused = _load_settings(WORKBENCH_PROBE_ALLOW_UNISOLATED="1")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "needs DJANGO_DEBUG on" in refused.stderr
    allowed = _load_settings(WORKBENCH_PROBE_ALLOW_UNISOLATED="1", DJANGO_DEBUG="1")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "True"
    assert _load_settings().stdout.strip() == "False"
