"""`python -m tests.load` (`make load`): a bounded load on loopback, judged by locust.

1. drops and creates the PostgreSQL database of LOAD_DATABASE_URL (its name must contain "load"),
   migrates it, loads the dev environment, creates a superuser and API tokens for it and `demo-editor`;
2. serves it with gunicorn (LOAD_WORKERS workers, default 4) on a free 127.0.0.1 port, production
   settings (DJANGO_DEBUG=0), and waits for /readyz to answer 200;
3. runs tests/load/locustfile.py headless (locust from `make ci-tools`) for LOAD_SECONDS (default 60)
   at LOAD_RATE tasks/s (default 30) from LOAD_USERS users (default 10); locust prints its tables and
   one summary line (throughput, p50/p99, errors, 5xx) and exits 1 on any error or 5xx;
4. stops the server and drops the database, whatever happened; on failure the server log is printed.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
LOCUST = ROOT / ".venv" / "ci" / "bin" / "locust"
RATE_SETTINGS = [
    "WORKBENCH_RATE_READ",
    "WORKBENCH_RATE_WRITE",
    "WORKBENCH_RATE_INVOKE",
    "WORKBENCH_TENANT_RATE_READ",
    "WORKBENCH_TENANT_RATE_WRITE",
    "WORKBENCH_TENANT_RATE_INVOKE",
]
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workbench_load"


def setting(name, default):
    raw = os.environ.get(name) or str(default)
    value = int(raw) if raw.isdigit() else 0
    if value < 1:
        raise SystemExit(f"{name} must be a positive whole number, not {raw!r}.")
    return value


def database(url):
    """(admin URL on the same server, database name); refuses a name without "load": it is dropped."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or not name:
        raise SystemExit(f"LOAD_DATABASE_URL must be a PostgreSQL URL with a database name, not {url!r}.")
    if "load" not in name or not name.replace("_", "").isalnum():
        raise SystemExit(
            f"LOAD_DATABASE_URL names {name!r}: the load check drops and recreates its database, so the "
            "name must contain 'load' (letters, digits and underscores only)."
        )
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate(admin_url, name, *, create):
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, log, *args):
    """Run a manage.py command; its output goes to `log` (printed if it fails); returns its stdout."""
    done = subprocess.run(
        [str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    with open(log, "a") as out:
        out.write(f"$ manage.py {' '.join(args)}\n{done.stderr}")
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit {done.returncode}).")
    return done.stdout


def wait_ready(base, server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def stop(server):
    if server.poll() is None:
        server.terminate()  # gunicorn's graceful shutdown: the master stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def tail(path, lines=200):
    if path.exists():
        sys.stderr.write("".join(path.read_text(errors="replace").splitlines(keepends=True)[-lines:]))


def main():
    seconds = setting("LOAD_SECONDS", 60)
    rate = setting("LOAD_RATE", 30)
    users = setting("LOAD_USERS", 10)
    workers = setting("LOAD_WORKERS", 4)
    database_url = os.environ.get("LOAD_DATABASE_URL") or DEFAULT_DATABASE_URL
    admin_url, name = database(database_url)
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST.relative_to(ROOT)} is missing: run `make ci-tools` (or `make load`).")
    # A SIGTERM (CI cancelled) unwinds like an exception: the server stops, the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        # Two tokens make every call: the rate limits (README "Production") are raised so that the load
        # measures the app, not the limits; the throttle still counts every request.
        **{name: "1000000/min" for name in RATE_SETTINGS},
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = None
    with tempfile.TemporaryDirectory(prefix="workbench-load-") as work:
        setup_log, server_log = Path(work, "setup.log"), Path(work, "server.log")
        try:
            recreate(admin_url, name, create=True)
            manage(env, setup_log, "migrate", "--noinput", "-v", "0")
            # The dev environment's demo logins, on a throwaway loopback server, on purpose.
            manage(env, setup_log, "load_environment", "dev", "--allow-demo-users")
            password = secrets.token_urlsafe(16)
            manage(
                {**env, "DJANGO_SUPERUSER_PASSWORD": password},
                setup_log,
                "createsuperuser", "--noinput", "--username", "load", "--email", "load@example.com",
            )
            admin_token = manage(env, setup_log, "create_api_token", "load").strip().splitlines()[-1]
            editor_token = manage(env, setup_log, "create_api_token", "demo-editor").strip().splitlines()[-1]

            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [
                    str(GUNICORN), "workbench.wsgi", "--bind", f"127.0.0.1:{port}",
                    "--workers", str(workers), "--timeout", "60",
                    "--error-logfile", str(server_log), "--capture-output",
                ],
                cwd=ROOT, env=env, start_new_session=True,
            )
            if not wait_ready(base, server):
                tail(server_log)
                raise SystemExit(f"The server at {base} did not answer /readyz with 200.")
            print(
                f"load: {seconds} s, {rate} tasks/s from {users} users, {workers} gunicorn workers, "
                f"PostgreSQL database {name}, {base}",
                flush=True,
            )
            locust = subprocess.run(
                [
                    str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--host", base,
                    "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
                    "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "LOAD_ADMIN_TOKEN": admin_token,
                    "LOAD_EDITOR_TOKEN": editor_token,
                    "LOAD_RATE": str(rate),
                    "LOAD_USERS": str(users),
                },
            )
            if locust.returncode != 0:
                sys.stderr.write(f"\nlocust exited {locust.returncode}; the server log:\n")
                tail(server_log, 300)
            return locust.returncode
        finally:
            if server is not None:
                stop(server)
            recreate(admin_url, name, create=False)


if __name__ == "__main__":
    sys.exit(main())
