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
from workbench.services.drafts import draft_create

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


MANY, SCOPES = 20, 10


@pytest.fixture
def many(editor, tenant):
    """MANY connectors of SCOPES scopes each, no firearm and no KPI on any; the first has the importer's
    open draft."""
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.lead_time")
    for index in range(MANY):
        publish(editor, tenant, f"conn-{index:02d}", "1.0.0", {f"scope_{s}": None for s in range(SCOPES)})
    draft_create(tenant=tenant, user=editor, connector_id="conn-00")
    return editor


MANY_SHEETS = {
    "firearm-bindings": lambda connectors: sheet(FIREARM_HEADER, *(
        [f"conn-{index:02d}:scope_{s}", "firearm.external_write"]
        for index in range(connectors) for s in range(SCOPES)
    )),
    "kpi-tool-bindings": lambda connectors: sheet(KPI_HEADER, *(
        [f"conn-{index:02d}:scope_{s}", "kpi.lead_time"]
        for index in range(connectors) for s in range(SCOPES)
    )),
}


def many_statements(kind, user, tenant, connectors, *, dry_run):
    """(statements other than INSERT, INSERT statements) of a sheet changing every scope of
    `connectors` connectors, a draft each; rolled back after."""
    user = type(user).objects.get(pk=user.pk)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            resource = IMPORTS[kind](user=user, tenant=tenant)
            report = run_import(resource, MANY_SHEETS[kind](connectors), dry_run=dry_run)
        assert report.ok, list(report.error_lines())[:3]
        assert len(report.notes) == connectors
        drafts = WorkbenchDraft.objects.filter(status="draft", revision=2).count()
        assert drafts == (0 if dry_run else connectors)
        transaction.set_rollback(True)
    sql = [query["sql"] for query in captured.captured_queries]
    inserts = len([statement for statement in sql if statement.startswith("INSERT")])
    return len(sql) - inserts, inserts


@pytest.mark.parametrize("kind", sorted(MANY_SHEETS))
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_binding_import_does_no_query_per_connector(many, tenant, kind, dry_run):
    """Drafts of 20 connectors cost the statements of drafts of 2 (they are written in bulk)."""
    small = many_statements(kind, many, tenant, 2, dry_run=dry_run)
    large = many_statements(kind, many, tenant, MANY, dry_run=dry_run)
    assert large == small
