"""TSV imports of firearms, grants and KPI corridors: a preview first, errors by line and column, all rows
or none."""

from decimal import Decimal

import pytest

from policies.exchange import FirearmGrantResource, FirearmResource, KpiCorridorResource
from policies.models import Firearm, FirearmGrant, KpiCorridor
from tests.policies.factories import (
    FirearmFactory,
    FirearmGrantFactory,
    KpiCorridorFactory,
    KpiDefinitionFactory,
)
from tests.workbench.exchange_kit import (
    CORRIDOR_HEADER,
    FIREARMS,
    GRANT_HEADER,
    IMPORTER_PERMS,
    make_importer,
    member,
    table,
    tenant_owner,
)
from tests.workbench.factories import GroupFactory, TenantFactory
from workbench.kit.exchange.importing import run_import
from workbench.kit.refusals import Refusal

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer():
    return make_importer()


def outcomes(report):
    return [(row.line, row.outcome, row.label) for row in report.rows]


def errors(report):
    return [(row.line, column, message) for row in report.rows for column, message in row.errors]


# -- firearms ----------------------------------------------------------------------------------------


def test_firearm_import_previews_every_row_then_writes_them_with_history(importer):
    FirearmFactory(firearm_id="firearm.external_write", name="External write", severity="high")
    FirearmFactory(firearm_id="firearm.send_message", name="Send message", severity="medium")

    preview = run_import(FirearmResource(user=importer), FIREARMS, dry_run=True, file_name="firearms.tsv")

    assert outcomes(preview) == [
        (2, "update", "firearm.external_write"),
        (3, "new", "firearm.data_export"),
        (4, "unchanged", "firearm.send_message"),
    ]
    assert preview.rows[0].changes == [("severity", "high", "critical")]
    assert preview.ok and not preview.written
    assert not Firearm.objects.filter(firearm_id="firearm.data_export").exists()
    assert Firearm.objects.get(firearm_id="firearm.external_write").severity == "high"

    report = run_import(FirearmResource(user=importer), FIREARMS, dry_run=False, file_name="firearms.tsv")

    assert report.written
    assert report.summary() == "1 new, 1 update, 1 unchanged, 0 error: written."
    assert Firearm.objects.get(firearm_id="firearm.external_write").severity == "critical"
    created = Firearm.objects.get(firearm_id="firearm.data_export")
    history = created.history.get()
    assert (history.history_type, history.history_user, history.history_change_reason) == (
        "+",
        importer,
        "imported from TSV firearms.tsv",
    )
    # Unchanged rows are not saved again: no history row for them.
    assert Firearm.objects.get(firearm_id="firearm.send_message").history.count() == 1


def test_a_spreadsheet_file_with_bom_crlf_and_trailing_blank_lines_reads_like_a_plain_one(importer):
    data = ("\ufeff" + FIREARMS.replace("\n", "\r\n") + "\r\n\r\n").encode()
    report = run_import(FirearmResource(user=importer), data, dry_run=True)
    assert [row.outcome for row in report.rows] == ["new", "new", "new"]


@pytest.mark.django_db(transaction=True)
def test_one_bad_row_writes_nothing_and_is_named_by_line_and_column(importer):
    """On SQLite and PostgreSQL alike (run the suite with DATABASE_URL for the latter)."""
    FirearmFactory(firearm_id="firearm.external_write", name="External write", severity="high")
    bad = FIREARMS.replace("Data export\thigh", "Data export\tdeadly")

    report = run_import(FirearmResource(user=importer), bad, dry_run=False)

    assert not report.ok and not report.written
    assert errors(report) == [
        (3, "severity", "Value 'deadly' is not a valid choice."),
    ]
    assert [row.outcome for row in report.rows] == ["update", "error", "new"]
    assert report.summary() == (
        "1 new, 1 update, 0 unchanged, 1 error: nothing was written (every row must be valid)."
    )
    # The valid rows before and after the bad one were rolled back with it.
    stored = Firearm.objects.values_list("firearm_id", "severity")
    assert list(stored) == [("firearm.external_write", "high")]
    assert Firearm.history.count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        (table(["name", "severity"], ["X", "high"]), "missing column firearm_id"),
        (table(["firearm_id", "colour"], ["firearm.x", "red"]), "unknown column colour"),
        ("firearm_id\tname\nfirearm.a\tA\nfirearm.b\n", "line 3 has 1 cells, the header has 2"),
        ("firearm_id\tname\n\nfirearm.b\tB\n", "line 2 is empty, the header has 2"),
        ("", "The file is empty"),
        (b"firearm_id\n\xff\n", "not UTF-8"),
    ],
    ids=["missing", "unknown", "short-line", "blank-line", "empty", "not-utf8"],
)
def test_a_malformed_file_is_refused_whole(importer, data, message):
    report = run_import(FirearmResource(user=importer), data, dry_run=False)
    assert not report.ok
    assert message in " ".join(report.file_errors)
    assert not Firearm.objects.exists()


# -- grants --------------------------------------------------------------------------------------------

EW = "firearm.external_write"


def test_grants_are_given_through_the_grant_service_by_the_importing_user(importer):
    FirearmFactory(firearm_id="firearm.external_write")
    acme = TenantFactory(slug="acme")
    member(acme, "ann")
    GroupFactory(name="release-train")
    data = table(
        GRANT_HEADER,
        ["", "firearm.external_write", "acme", "user", "ann", "Release 4.2", "2099-01-01T00:00:00Z"],
        ["", "firearm.external_write", "acme", "group", "release-train", "On call", ""],
        # A tenant grant is given within its tenant: the tenant cell may stay empty.
        ["", "firearm.external_write", "", "tenant", "acme", "Contract 17", ""],
    )

    report = run_import(FirearmGrantResource(user=importer), data, dry_run=False, file_name="grants.tsv")

    assert report.written, list(report.error_lines())
    grants = FirearmGrant.objects.order_by("reason")
    assert [(g.principal_type, str(g.principal), g.tenant.slug, g.reason, g.granted_by) for g in grants] == [
        ("tenant", "acme", "acme", "Contract 17", importer),
        ("group", "release-train", "acme", "On call", importer),
        ("user", "ann", "acme", "Release 4.2", importer),
    ]
    assert grants.get(reason="Release 4.2").expires_at.isoformat() == "2099-01-01T00:00:00+00:00"
    assert all(grant.history.get().history_change_reason == "granted: " + grant.reason for grant in grants)


@pytest.mark.parametrize(
    "row, column, message",
    [
        (["", EW, "acme", "user", "ann", "", ""], "reason", "This field cannot be blank."),
        (["", "firearm.nope", "acme", "user", "ann", "Why", ""], "firearm_id", "No firearm 'firearm.nope'."),
        (
            ["", EW, "acme", "user", "nobody", "Why", ""],
            "principal",
            "No user 'nobody' among the members of 'acme'.",
        ),
        (
            ["", EW, "acme", "robot", "ann", "Why", ""],
            "principal_type",
            "Expected user, group or tenant, not 'robot'.",
        ),
        (
            ["", EW, "acme", "user", "ann", "Why", "2001-01-01T00:00:00Z"],
            "expires_at",
            "Expiry must be in the future.",
        ),
        (
            ["", EW, "acme", "user", "ann", "Why", "tomorrow"],
            "expires_at",
            "Expected a UTC time like 2026-01-07T12:00:00Z, not 'tomorrow'.",
        ),
        (
            ["7b0c3c7e-8d3e-4a4e-9a53-4f7f3a7b9d10", EW, "acme", "user", "ann", "Why", ""],
            "uid",
            "No grant has this uid; leave uid empty to give a new grant.",
        ),
        (
            ["", EW, "", "user", "ann", "Why", ""],
            "tenant",
            "Name the tenant the user grant is given within.",
        ),
        (["", EW, "nowhere", "user", "ann", "Why", ""], "tenant", "No tenant 'nowhere'."),
        (
            ["", EW, "other", "tenant", "acme", "Why", ""],
            "tenant",
            "A tenant grant is given within its tenant: 'acme'.",
        ),
        (
            # Whether ann exists elsewhere is not told: she is no member of other.
            ["", EW, "other", "user", "ann", "Why", ""],
            "principal",
            "No user 'ann' among the members of 'other'.",
        ),
    ],
    ids=[
        "no-reason", "unknown-firearm", "unknown-user", "bad-type", "expired", "bad-time", "unknown-uid",
        "no-tenant", "unknown-tenant", "tenant-grant-elsewhere", "not-a-member",
    ],
)
def test_a_bad_grant_row_is_named_by_column_and_nothing_is_granted(importer, row, column, message):
    FirearmFactory(firearm_id="firearm.external_write")
    member(TenantFactory(slug="acme"), "ann")
    TenantFactory(slug="other")
    good = ["", "firearm.external_write", "acme", "user", "ann", "Fine", ""]

    report = run_import(FirearmGrantResource(user=importer), table(GRANT_HEADER, good, row), dry_run=False)

    assert (3, column, message) in errors(report), errors(report)
    assert not FirearmGrant.objects.exists()


def test_a_tenant_owner_imports_grants_of_their_tenant_only():
    FirearmFactory(firearm_id="firearm.external_write")
    acme, other = TenantFactory(slug="acme"), TenantFactory(slug="other")
    owner = tenant_owner(acme)
    member(acme, "ann")
    member(other, "bob")
    good = ["", "firearm.external_write", "acme", "user", "ann", "Release 4.2", ""]
    elsewhere = ["", "firearm.external_write", "other", "user", "bob", "Not mine to give", ""]

    report = run_import(FirearmGrantResource(user=owner), table(GRANT_HEADER, good, elsewhere), dry_run=False)

    assert not report.written
    [(line, column, message)] = errors(report)
    assert (line, column) == (3, "tenant")
    assert "tenant 'other'" in message and "you are not a member there" in message
    assert not FirearmGrant.objects.exists()
    report = run_import(FirearmGrantResource(user=owner), table(GRANT_HEADER, good), dry_run=False)
    assert report.written, list(report.error_lines())
    assert FirearmGrant.objects.get().granted_by == owner


@pytest.mark.parametrize("principal_type, principal", [("user", "owner"), ("tenant", "acme")])
def test_nobody_imports_a_grant_to_themself(principal_type, principal):
    FirearmFactory(firearm_id="firearm.external_write")
    owner = tenant_owner(TenantFactory(slug="acme"))
    row = ["", "firearm.external_write", "acme", principal_type, principal, "For me", ""]

    report = run_import(FirearmGrantResource(user=owner), table(GRANT_HEADER, row), dry_run=False)

    assert not report.written
    [(line, column, message)] = errors(report)
    assert (line, column) == (2, "principal")
    assert message.startswith(f"You would hold this grant yourself ({principal_type} {principal})")
    assert not FirearmGrant.objects.exists()


def test_an_exported_grant_row_is_unchanged_and_an_edited_one_is_refused(importer):
    acme = TenantFactory(slug="acme")
    grant = FirearmGrantFactory(user=member(acme, "ann"), tenant=acme, reason="Release 4.2")
    same = [str(grant.uid), grant.firearm.firearm_id, "acme", "user", "ann", "Release 4.2", ""]
    edited = [str(grant.uid), grant.firearm.firearm_id, "acme", "user", "ann", "A better reason", ""]

    report = run_import(FirearmGrantResource(user=importer), table(GRANT_HEADER, same), dry_run=False)
    assert [row.outcome for row in report.rows] == ["unchanged"] and report.written

    report = run_import(FirearmGrantResource(user=importer), table(GRANT_HEADER, edited), dry_run=False)
    assert errors(report) == [
        (
            2,
            "reason",
            "A grant never changes once given: revoke it in the admin, then "
            "grant again on a row with an empty uid.",
        )
    ]
    assert FirearmGrant.objects.get().reason == "Release 4.2"


def test_a_grant_file_without_a_uid_column_is_a_file_of_new_grants(importer):
    FirearmFactory(firearm_id="firearm.external_write")
    member(TenantFactory(slug="acme"), "ann")
    data = table(GRANT_HEADER[1:], ["firearm.external_write", "acme", "user", "ann", "Why", ""])
    assert run_import(FirearmGrantResource(user=importer), data, dry_run=False).written
    assert FirearmGrant.objects.get().granted_by == importer


# -- KPI corridors --------------------------------------------------------------------------------------


def test_corridors_are_created_and_updated(importer):
    KpiCorridorFactory(
        kpi=KpiDefinitionFactory(kpi_id="kpi.change_failure_rate"),
        lower=Decimal("0"),
        upper=Decimal("15"),
        critical_upper=Decimal("30"),
    )
    KpiDefinitionFactory(kpi_id="kpi.lead_time")
    data = table(
        CORRIDOR_HEADER,
        ["kpi.change_failure_rate", "", "0", "10", "30", "tighter"],
        ["kpi.lead_time", "", "", "48.5", "", ""],
    )

    report = run_import(KpiCorridorResource(user=importer), data, dry_run=False)

    assert [row.outcome for row in report.rows] == ["update", "new"]
    assert report.rows[0].changes == [("upper", "15", "10"), ("note", "", "tighter")]
    assert KpiCorridor.objects.get(kpi__kpi_id="kpi.change_failure_rate").upper == Decimal("10")
    lead = KpiCorridor.objects.get(kpi__kpi_id="kpi.lead_time")
    assert (lead.lower, lead.upper) == (None, Decimal("48.5"))
    assert lead.history.get().history_user == importer


@pytest.mark.parametrize(
    "row, column, message",
    [
        (["kpi.lead_time", "", "20", "10", "", ""], "upper", "upper (10) must not be below lower (20)."),
        (["kpi.nope", "", "0", "10", "", ""], "kpi_id", "No KPI definition 'kpi.nope'."),
        (["kpi.lead_time", "", "low", "10", "", ""], "lower", "Expected a number like 12.5, not 'low'."),
        (["kpi.lead_time", "", "", "", "", ""], "", "A corridor needs a lower or an upper bound."),
    ],
    ids=["unordered", "unknown-kpi", "not-a-number", "no-bound"],
)
def test_a_bad_corridor_row_is_named_by_column(importer, row, column, message):
    KpiDefinitionFactory(kpi_id="kpi.lead_time")
    report = run_import(KpiCorridorResource(user=importer), table(CORRIDOR_HEADER, row), dry_run=False)
    assert errors(report) == [(2, column, message)]
    assert not KpiCorridor.objects.exists()


# -- platform rows: who imports them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource, data",
    [
        (FirearmResource, FIREARMS),
        (KpiCorridorResource, table(CORRIDOR_HEADER, ["kpi.x", "", "0", "1", "", ""])),
    ],
    ids=["firearms", "corridors"],
)
def test_firearms_and_corridors_are_imported_by_platform_staff_only(resource, data):
    """A tenant owner holding every import permission is refused before the file is read."""
    owner = tenant_owner(TenantFactory(slug="acme"), perms=IMPORTER_PERMS)
    for text in (data, b"not\ta\tfile\xff"):
        with pytest.raises(Refusal) as err:
            run_import(resource(user=owner), text, dry_run=True)
        assert (err.value.status, err.value.code) == (403, "platform_scope")
    assert not Firearm.objects.exists() and not KpiCorridor.objects.exists()
