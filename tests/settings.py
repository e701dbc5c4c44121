"""Settings for the test suite: the project's settings with a test secret and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from workbench.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Connections opened by threads the tests start (live server, concurrency tests) close at the end of
# each request instead of lingering past the test database's teardown.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Background tasks run at once, in the process that enqueues them (after the enqueuing transaction
# commits, as in production).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# API rate limits off: the suite makes many calls from one token. tests/workbench/test_rate_limits.py
# turns them on, low, where it tests them.
WORKBENCH_RATES = {"read": None, "write": None, "invoke": None}
WORKBENCH_TENANT_RATES = {"read": None, "write": None, "invoke": None}
