"""The WSGI application imports in a fresh interpreter, whatever module DRF's settings import first (the
parser class of DEFAULT_PARSER_CLASSES once closed an import cycle that only a cold start showed)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.parametrize(
    "first",
    ["workbench.kit.api.parsers", "workbench.kit.api.errors", "workbench.kit.middleware", "workbench.wsgi"],
)
def test_the_application_imports_cold(first):
    code = (
        "import django; django.setup(); "
        f"import {first}; "
        "from workbench.wsgi import application; "
        "from rest_framework.settings import api_settings; api_settings.DEFAULT_PARSER_CLASSES"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = [sys.executable, "-c", code]
    result = subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=90
    )
    assert result.returncode == 0, result.stderr[-2000:]
