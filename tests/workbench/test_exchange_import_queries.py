"""Imports read what their rows refer to once per file, not once per row: a file of 200 rows asks the
database the same questions as a file of 20 (the inserts apart, which the database takes in batches),
so a 5 MB sheet previews and commits in seconds (tests/bench/bench_import_tsv.py times one)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.exchange import FirearmGrantResource, FirearmResource, KpiCorridorResource
from policies.models import Firearm, FirearmGrant, KpiCorridor, KpiDefinition
from tests.policies.factories import FirearmFactory, KpiCorridorFactory, KpiDefinitionFactory
from tests.workbench.exchange_kit import (
    CORRIDOR_HEADER,
    GRANT_HEADER,
    make_importer,
    member,
    table,
    tenant_owner,
)
from tests.workbench.factories import MembershipFactory, TenantFactory
from workbench.kit.exchange.importing import run_import
from workbench.models import Membership, Tenant

pytestmark = pytest.mark.django_db

SMALL, LARGE = 20, 200
TENANTS = ("acme", "beta")
MEMBERS = 10
GROUPS = 5


def statements(resource_class, user, text, *, dry_run):
    """(queries other than INSERT, INSERT statements) of one import, which must succeed."""
    user = type(user).objects.get(pk=user.pk)  # as a request has it: no permissions cached yet
    with CaptureQueriesContext(connection) as captured:
        report = run_import(resource_class(user=user), text, dry_run=dry_run, file_name="many.tsv")
    assert report.ok, list(report.error_lines())[:3]
    sql = [query["sql"] for query in captured.captured_queries]
    inserts = [statement for statement in sql if statement.startswith("INSERT")]
    return len(sql) - len(inserts), len(inserts)


def assert_no_query_per_row(resource_class, user, make_text, written):
    for dry_run in (True, False):
        small = statements(resource_class, user, make_text(SMALL), dry_run=dry_run)
        large = statements(resource_class, user, make_text(LARGE), dry_run=dry_run)
        assert large[0] == small[0], (dry_run, small, large)
        # The rows and their history rows are inserted in batches, not one by one.
        assert large[1] < LARGE // 10, (dry_run, large)
        assert written() == (0 if dry_run else LARGE + SMALL)


# -- grants -----------------------------------------------------------------------------------------------


def grant_world():
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.money_movement", severity=Firearm.Severity.CRITICAL)
    for slug in TENANTS:
        tenant = TenantFactory(slug=slug)
        for index in range(MEMBERS):
            member(tenant, f"{slug}-{index}")
    for index in range(GROUPS):
        Group.objects.create(name=f"team-{index}")


def grants(rows, tenants=TENANTS, kinds=("user", "user", "user", "group", "tenant")):
    """`rows` new grants over the same tenants, members, groups and firearms whatever their number."""
    lines = []
    for index in range(rows):
        slug, kind = tenants[index % len(tenants)], kinds[index % len(kinds)]
        principal = {
            "user": f"{slug}-{index // len(tenants) % MEMBERS}",
            "group": f"team-{index % GROUPS}",
            "tenant": slug,
        }[kind]
        firearm = ("firearm.external_write", "firearm.money_movement")[index // 7 % 2]
        expires = "2099-01-01T00:00:00Z" if index % 3 else ""
        lines.append(["", firearm, slug, kind, principal, f"Reason {index}: " + "on call " * 40, expires])
    return table(GRANT_HEADER, *lines)


def test_a_grant_import_by_platform_staff_does_no_query_per_row():
    grant_world()
    importer = make_importer()
    assert_no_query_per_row(FirearmGrantResource, importer, grants, FirearmGrant.objects.count)
    grant = FirearmGrant.objects.filter(principal_type="user").first()
    history = grant.history.get()
    assert (history.history_type, history.history_user) == ("+", importer)
    assert history.history_change_reason == ("granted: " + grant.reason)[:99] + "…"
    assert FirearmGrant.history.count() == LARGE + SMALL


def test_a_grant_import_by_a_tenant_owner_does_no_query_per_row():
    """The access gate is asked once per tenant, its answer holding for every row of that tenant."""
    grant_world()
    owner = tenant_owner(Tenant.objects.get(slug="acme"), username="owner")
    MembershipFactory(tenant=Tenant.objects.get(slug="beta"), user=owner, role=Membership.Role.OWNER)

    def without_tenant_grants(rows):  # the owner is a member of both tenants: those would be their own
        return grants(rows, kinds=("user", "user", "group"))

    assert_no_query_per_row(FirearmGrantResource, owner, without_tenant_grants, FirearmGrant.objects.count)
    assert set(FirearmGrant.objects.values_list("granted_by", flat=True)) == {owner.pk}


def test_one_refused_grant_among_many_writes_none():
    grant_world()
    owner = tenant_owner(Tenant.objects.get(slug="acme"), username="owner")
    rows = grants(LARGE, tenants=("acme",), kinds=("user", "group")).splitlines(keepends=True)
    # Line 100 is in a tenant the owner does not own, line 150 names someone who is no member of acme.
    rows[99] = table(["", "firearm.external_write", "beta", "user", "beta-1", "Not mine", ""])
    rows[149] = table(["", "firearm.external_write", "acme", "user", "beta-1", "Not a member", ""])

    report = run_import(FirearmGrantResource(user=owner), "".join(rows), dry_run=False)

    assert not report.written
    assert [(row.line, column) for row in report.rows for column, _ in row.errors] == [
        (100, "tenant"), (150, "principal"),
    ]
    assert not FirearmGrant.objects.exists() and not FirearmGrant.history.exists()


# -- firearms and corridors ---------------------------------------------------------------------------------


def firearms(rows):
    lines = [["firearm.existing", "Existing", "low", f"Changed for {rows}"]]
    lines += [[f"firearm.many_{rows}_{index:04d}", f"Many {index}", "high", "x" * 300]
              for index in range(rows)]
    return table(["firearm_id", "name", "severity", "description"], *lines)


def test_a_firearm_import_does_no_query_per_row():
    FirearmFactory(firearm_id="firearm.existing")
    new = Firearm.objects.filter(firearm_id__startswith="firearm.many").count
    assert_no_query_per_row(FirearmResource, make_importer(), firearms, new)


def corridors(rows):
    first = 0 if rows == SMALL else SMALL
    lines = [["kpi.existing", "", "0", "10", "", f"Changed for {rows}"]]
    lines += [[f"kpi.many_{index:04d}", "", "0", str(index + 1), "", "y" * 300]
              for index in range(first, first + rows)]
    return table(CORRIDOR_HEADER, *lines)


def test_a_corridor_import_does_no_query_per_row():
    KpiCorridorFactory(kpi=KpiDefinitionFactory(kpi_id="kpi.existing"))
    KpiDefinition.objects.bulk_create(
        [KpiDefinition(kpi_id=f"kpi.many_{index:04d}", name=f"Many {index}", unit="%")
         for index in range(SMALL + LARGE)]
    )
    new = KpiCorridor.objects.filter(kpi__kpi_id__startswith="kpi.many").count
    assert_no_query_per_row(KpiCorridorResource, make_importer(), corridors, new)
