"""The access table is complete and is the README's: every project model is in it, and the README's "Who may
change what" table is the one the table renders."""

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib import admin

from workbench.tenancy.access import TABLE, markdown_table

PROJECT_APPS = ("workbench", "registries", "policies")
#: History's own rows, read only through the row they are the history of (never listed, served or written
#: by hand, so refused everywhere else): simple-history's tables and the draft snapshots they refer to.
HISTORY_CONTENT = {"workbench.draftsnapshot"}
#: Counters of the API's rate limits: written by the throttle in its own statement, never listed, served or
#: written by hand, so refused everywhere else.
INTERNAL = {"workbench.ratecounter"}


def test_every_model_of_the_project_and_of_the_admin_is_in_the_access_table():
    models = {
        model._meta.label_lower
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and not model.__name__.startswith("Historical")
    } - HISTORY_CONTENT - INTERNAL
    models |= {model._meta.label_lower for model in admin.site._registry}  # users, groups, API tokens
    assert sorted(models - set(TABLE)) == []
    assert sorted(set(TABLE) - models) == []


def test_the_readme_shows_the_table_the_code_enforces():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    start = readme.index("<!-- access-table")
    end = readme.index("<!-- /access-table -->")
    block = readme[readme.index("\n", start) + 1 : end].strip()
    assert block == markdown_table(), (
        "regenerate the README table with workbench.tenancy.access.markdown_table()"
    )


def test_the_platform_tenant_is_the_one_the_seeds_create():
    seeds = json.loads((Path(settings.BASE_DIR) / "seeds" / "00_system.json").read_text())
    tenants = [entry["fields"]["slug"] for entry in seeds if entry["model"] == "workbench.tenant"]
    assert tenants == [settings.WORKBENCH_PLATFORM_TENANT]
