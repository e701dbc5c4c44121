"""WORKBENCH_AUDIT_RETENTION_DAYS and WORKBENCH_NUM_PROXIES that are not whole numbers in range stop the
start with the variable's name, never a traceback deep in a purge or a request."""

import pytest

from tests.workbench.test_settings import run_python


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WORKBENCH_AUDIT_RETENTION_DAYS", "0"),
        ("WORKBENCH_AUDIT_RETENTION_DAYS", "a year"),
        ("WORKBENCH_AUDIT_RETENTION_DAYS", "-5"),
        ("WORKBENCH_NUM_PROXIES", "-1"),
        ("WORKBENCH_NUM_PROXIES", "11"),
        ("WORKBENCH_NUM_PROXIES", "one"),
    ],
)
def test_a_bad_number_is_refused_at_start(name, value):
    result = run_python(["manage.py", "check"], {"DJANGO_DEBUG": "1", name: value})
    assert result.returncode != 0
    assert f"{name} is a whole number" in result.stderr


def test_good_numbers_start():
    env = {"DJANGO_DEBUG": "1", "WORKBENCH_AUDIT_RETENTION_DAYS": "30", "WORKBENCH_NUM_PROXIES": "2"}
    result = run_python(["manage.py", "shell", "-c", SHOW], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["30", "2", "2"]


SHOW = (
    "from django.conf import settings; print(settings.WORKBENCH_AUDIT_RETENTION_DAYS, "
    "settings.WORKBENCH_NUM_PROXIES, settings.REST_FRAMEWORK['NUM_PROXIES'])"
)
