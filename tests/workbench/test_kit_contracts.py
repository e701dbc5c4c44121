"""The floors hold: import-linter's contracts (pyproject.toml) pass on the code, and each fails, naming the
import chain, when a throwaway module breaks it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("workbench", "registries", "policies")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is a dev dependency")


def _copy_tree(target):
    for package in PACKAGES:
        shutil.copytree(
            BASE / package,
            target / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "migrations", "*.json", "*.md"),
        )
    shutil.copy(BASE / "pyproject.toml", target / "pyproject.toml")


def _lint(root):
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold_on_the_code():
    result = _lint(BASE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imports", "contract", "chain"),
    [
        (
            "workbench/kit/probe.py",
            "from registries.services import specs",
            "The kit (workbench.kit) imports no app",
            "workbench.kit.probe -> registries.services.specs",
        ),
        (
            "policies/services/probe.py",
            "from rest_framework.response import Response",
            "Services and selectors import no API or admin module",
            "policies.services.probe -> rest_framework",
        ),
        (
            "workbench/selectors/probe.py",
            "from workbench.kit.api.errors import refusal_response",
            "Services and selectors import no API or admin module",
            "workbench.selectors.probe -> workbench.kit.api.errors",
        ),
        (
            "workbench/selectors/probe2.py",
            "from workbench.services.drafts import draft_update",
            "Selectors (reads) import no services (writes)",
            "workbench.selectors.probe2 -> workbench.services.drafts",
        ),
        (
            "registries/probe.py",
            "from workbench.services.drafts import draft_publish",
            "Registries and policies import from workbench only its kit and its tenancy",
            "registries.probe -> workbench.services.drafts",
        ),
    ],
)
def test_a_broken_import_fails_its_contract_naming_the_chain(tmp_path, module, imports, contract, chain):
    _copy_tree(tmp_path)
    (tmp_path / module).write_text(f'"""A throwaway module breaking a floor."""\n\n{imports}\n')

    result = _lint(tmp_path)

    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    assert chain in result.stdout
