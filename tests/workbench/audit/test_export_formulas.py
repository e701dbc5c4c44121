"""A username typed at a failed sign-in lands in the audit export: a cell that would start a spreadsheet
formula is written as text (a leading '); the other columns and ordinary text are unchanged."""

import pytest
from django.test import Client

from tests.workbench.exchange_kit import body
from tests.workbench.factories import platform_staff, token_client
from workbench.models import SecurityEvent
from workbench.services.audit import Kind, audit_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("alice", "alice"),
        ("al=ice", "al=ice"),
    ],
)
def test_a_failed_sign_in_s_username_is_never_a_formula_in_the_export(typed, cell):
    Client().post("/admin/login/", {"username": typed, "password": "wrong"}, REMOTE_ADDR="192.0.2.1")
    auditor = platform_staff(["workbench.view_securityevent"], username="auditor")
    audit_record(kind=Kind.PLATFORM_WRITE, actor=auditor, subject="plain")
    assert SecurityEvent.objects.filter(kind=Kind.LOGIN_FAILED, subject=typed).exists()
    rows = [
        line.split("\t")
        for line in body(token_client(auditor).get("/api/v1/exports/security-events.tsv"))
        .decode()
        .splitlines()
    ]
    header, *rows = rows
    by_kind = {row[header.index("kind")]: row for row in rows}
    failed = by_kind["login_failed"]
    assert failed[header.index("subject")] == cell
    assert failed[header.index("ip")] == "192.0.2.1"
    assert by_kind["platform_write"][header.index("actor")] == "auditor"
