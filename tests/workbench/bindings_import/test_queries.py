"""The binding imports read what their rows refer to once per file, not once per row: a file changing
200 scopes asks the database the same questions as one changing 20 (the draft is written once per
connector, whatever the number of its rows)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.policies.factories import FirearmFactory, KpiDefinitionFactory
from tests.workbench.policy_matrix.kit import publish
from workbench.exchange import IMPORTS
from workbench.kit.exchange.importing import run_import
from workbench.models import WorkbenchDraft

from .kit import FIREARM_HEADER, KPI_HEADER, sheet

pytestmark = pytest.mark.django_db

SMALL, LARGE = 20, 200
CONNECTORS = ("alpha", "beta")


@pytest.fixture
def wide(editor, tenant):
    """Two connectors of LARGE / 2 scopes each, no firearm and no KPI on any."""
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.lead_time")
    for connector_id in CONNECTORS:
        publish(editor, tenant, connector_id, "1.0.0", {f"scope_{i:03d}": None for i in range(LARGE // 2)})
    return editor


def rows(count):
    """`count` scopes spread over both connectors (so both get a draft whatever the count)."""
    return [f"{CONNECTORS[i % 2]}:scope_{i // 2:03d}" for i in range(count)]


SHEETS = {
    "firearm-bindings": lambda count: sheet(
        FIREARM_HEADER, *([a, "firearm.external_write"] for a in rows(count))
    ),
    "kpi-tool-bindings": lambda count: sheet(KPI_HEADER, *([a, "kpi.lead_time"] for a in rows(count))),
}


def queries(kind, user, tenant, text, *, dry_run):
    """Statements other than INSERT of one import, which must succeed; rolled back after."""
    user = type(user).objects.get(pk=user.pk)  # as a request has it: no permissions cached yet
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            report = run_import(IMPORTS[kind](user=user, tenant=tenant), text, dry_run=dry_run)
        assert report.ok, list(report.error_lines())[:3]
        assert WorkbenchDraft.objects.filter(status="draft").count() == (0 if dry_run else len(CONNECTORS))
        transaction.set_rollback(True)
    return len([query for query in captured.captured_queries if not query["sql"].startswith("INSERT")])


@pytest.mark.parametrize("kind", sorted(SHEETS))
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_binding_import_does_no_query_per_row(wide, tenant, kind, dry_run):
    small = queries(kind, wide, tenant, SHEETS[kind](SMALL), dry_run=dry_run)
    large = queries(kind, wide, tenant, SHEETS[kind](LARGE), dry_run=dry_run)
    assert large == small
