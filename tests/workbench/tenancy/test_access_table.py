"""The access table is complete and is the README's: every project model is in it, and the README's "Who may
change what" table is the one the table renders."""

from pathlib import Path

from django.apps import apps
from django.conf import settings

from workbench.tenancy.access import TABLE, markdown_table

PROJECT_APPS = ("workbench", "registries", "policies")


def test_every_model_of_the_project_is_in_the_access_table():
    models = {
        model._meta.label_lower
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and not model.__name__.startswith("Historical")
    }
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
