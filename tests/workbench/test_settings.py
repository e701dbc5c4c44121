"""Settings come from the environment; each case runs a fresh interpreter with exactly that environment."""

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "workbench.example.com",
    "DATABASE_URL": "postgres://workbench@db.example.com:5432/workbench",
}

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG, "ALLOWED_HOSTS": settings.ALLOWED_HOSTS, "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""), "OPTIONS": db.get("OPTIONS", {}),
}))
"""


def project_env(env):
    """This process's environment without any project setting (the test settings add some), plus `env`."""
    base = {key: val for key, val in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    return {**base, "DJANGO_SETTINGS_MODULE": "workbench.settings", **env}


def run_python(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=project_env(env)
    )


def settings_with(env):
    result = run_python(["-c", SHOW_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_production_variables():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("debug", ["", "0", "false", "off"])
def test_secret_key_is_required_when_not_in_debug(debug):
    result = run_python(["manage.py", "check"], {"DJANGO_DEBUG": debug})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


@pytest.mark.parametrize("debug", ["1", "true", "yes", "on", "TRUE"])
def test_debug_runs_without_a_secret_and_serves_localhost(debug):
    values = settings_with({"DJANGO_DEBUG": debug})
    assert values["DEBUG"] is True
    assert {"localhost", "127.0.0.1"} <= set(values["ALLOWED_HOSTS"])


def test_without_database_url_the_database_is_a_sqlite_file_in_the_project():
    values = settings_with({"DJANGO_DEBUG": "1"})
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["NAME"] == str(ROOT / "db.sqlite3")
    # Writers queue for the write lock (BEGIN IMMEDIATE) and wait up to the timeout for it.
    assert values["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert values["OPTIONS"]["timeout"] >= 5


def test_database_url_and_allowed_hosts_come_from_the_environment():
    values = settings_with({**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "a.example.com, b.example.com"})
    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["a.example.com", "b.example.com"]
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert (values["HOST"], values["NAME"]) == ("db.example.com", "workbench")


WRITER = """
import sys, time, django
from pathlib import Path
django.setup()
from django.db import connection, transaction
name, ready_dir = sys.argv[1], Path(sys.argv[2])
connection.ensure_connection()
(ready_dir / name).touch()
deadline = time.monotonic() + 60
while len(list(ready_dir.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.01)
with transaction.atomic(), connection.cursor() as cursor:
    # Read, then write after a pause: with deferred transactions the second writer's upgrade to a
    # write lock fails at once with "database is locked"; with BEGIN IMMEDIATE it waits its turn.
    cursor.execute("SELECT count(*) FROM probe")
    time.sleep(0.5)
    cursor.execute("INSERT INTO probe (writer) VALUES (%s)", [name])
print("committed")
"""


def test_two_writers_on_one_sqlite_file_both_succeed(tmp_path):
    database = tmp_path / "writers.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, writer TEXT NOT NULL)")
    ready = tmp_path / "ready"
    ready.mkdir()
    env = project_env({"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"})
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(ready)], cwd=ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        for name in ("first", "second")
    ]
    outcomes = [writer.communicate(timeout=120) for writer in writers]

    for writer, (out, err) in zip(writers, outcomes, strict=True):
        assert writer.returncode == 0 and "committed" in out, err
    with sqlite3.connect(database) as check:
        assert sorted(row[0] for row in check.execute("SELECT writer FROM probe")) == ["first", "second"]


@pytest.mark.parametrize("namespace", ["", "io.acme/", "io acme", "io.acme/x"])
def test_a_registry_namespace_that_cannot_name_a_server_is_refused_at_start(namespace):
    env = {"DJANGO_DEBUG": "1", "WORKBENCH_REGISTRY_NAMESPACE": namespace}
    result = run_python(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "WORKBENCH_REGISTRY_NAMESPACE" in result.stderr
