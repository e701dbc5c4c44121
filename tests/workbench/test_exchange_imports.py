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
from tests.workbench.exchange_kit import CORRIDOR_HEADER, FIREARMS, GRANT_HEADER, make_importer, table
from tests.workbench.factories import GroupFactory, TenantFactory, UserFactory
from workbench.kit.exchange.importing import run_import

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


def test_grants_are_given_through_the_grant_service_by_the_importing_user(importer):
    FirearmFactory(firearm_id="firearm.external_write")
    UserFactory(username="ann")
    GroupFactory(name="release-train")
    TenantFactory(slug="acme")
    data = table(
        GRANT_HEADER,
        ["", "firearm.external_write", "user", "ann", "Release 4.2", "2099-01-01T00:00:00Z"],
        ["", "firearm.external_write", "group", "release-train", "On call", ""],
        ["", "firearm.external_write", "tenant", "acme", "Contract 17", ""],
    )

    report = run_import(FirearmGrantResource(user=importer), data, dry_run=False, file_name="grants.tsv")

    assert report.written, list(report.error_lines())
    grants = FirearmGrant.objects.order_by("reason")
    assert [(g.principal_type, str(g.principal), g.reason, g.granted_by) for g in grants] == [
        ("tenant", "acme", "Contract 17", importer),
        ("group", "release-train", "On call", importer),
        ("user", "ann", "Release 4.2", importer),
    ]
    assert grants.get(reason="Release 4.2").expires_at.isoformat() == "2099-01-01T00:00:00+00:00"
    assert all(grant.history.get().history_change_reason == "granted: " + grant.reason for grant in grants)


@pytest.mark.parametrize(
    "row, column, message",
    [
        (["", "firearm.external_write", "user", "ann", "", ""], "reason", "This field cannot be blank."),
        (["", "firearm.nope", "user", "ann", "Why", ""], "firearm_id", "No firearm 'firearm.nope'."),
        (["", "firearm.external_write", "user", "nobody", "Why", ""], "principal", "No user 'nobody'."),
        (
            ["", "firearm.external_write", "robot", "ann", "Why", ""],
            "principal_type",
            "Expected user, group or tenant, not 'robot'.",
        ),
        (
            ["", "firearm.external_write", "user", "ann", "Why", "2001-01-01T00:00:00Z"],
            "expires_at",
            "Expiry must be in the future.",
        ),
        (
            ["", "firearm.external_write", "user", "ann", "Why", "tomorrow"],
            "expires_at",
            "Expected a UTC time like 2026-01-07T12:00:00Z, not 'tomorrow'.",
        ),
        (
            ["7b0c3c7e-8d3e-4a4e-9a53-4f7f3a7b9d10", "firearm.external_write", "user", "ann", "Why", ""],
            "uid",
            "No grant has this uid; leave uid empty to give a new grant.",
        ),
    ],
    ids=["no-reason", "unknown-firearm", "unknown-user", "bad-type", "expired", "bad-time", "unknown-uid"],
)
def test_a_bad_grant_row_is_named_by_column_and_nothing_is_granted(importer, row, column, message):
    FirearmFactory(firearm_id="firearm.external_write")
    UserFactory(username="ann")
    good = ["", "firearm.external_write", "user", "ann", "Fine", ""]

    report = run_import(FirearmGrantResource(user=importer), table(GRANT_HEADER, good, row), dry_run=False)

    assert (3, column, message) in errors(report)
    assert not FirearmGrant.objects.exists()


def test_an_exported_grant_row_is_unchanged_and_an_edited_one_is_refused(importer):
    grant = FirearmGrantFactory(user=UserFactory(username="ann"), reason="Release 4.2")
    same = [str(grant.uid), grant.firearm.firearm_id, "user", "ann", "Release 4.2", ""]
    edited = [str(grant.uid), grant.firearm.firearm_id, "user", "ann", "A better reason", ""]

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
    UserFactory(username="ann")
    data = table(GRANT_HEADER[1:], ["firearm.external_write", "user", "ann", "Why", ""])
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
