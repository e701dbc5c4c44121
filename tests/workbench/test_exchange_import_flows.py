"""The import flows around the resources: the admin's preview and confirm, and `import_tsv`."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from policies.models import Firearm, FirearmGrant, KpiCorridor
from tests.admin_helpers import logged_in, staff
from tests.policies.factories import FirearmFactory, KpiDefinitionFactory
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
from tests.workbench.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer():
    return make_importer()


# -- the command ---------------------------------------------------------------------------------------


def test_command_previews_with_dry_run_then_imports(importer, tmp_path):
    path = tmp_path / "firearms.tsv"
    path.write_text(FIREARMS)
    out = io.StringIO()

    call_command("import_tsv", "firearms", str(path), "--user", "importer", "--dry-run", stdout=out)
    assert "line 2: new firearm.external_write" in out.getvalue()
    assert "3 new, 0 update, 0 unchanged, 0 error: preview only, nothing was written." in out.getvalue()
    assert not Firearm.objects.exists()

    call_command("import_tsv", "firearms", str(path), "--user", "importer", stdout=io.StringIO())
    assert Firearm.objects.count() == 3
    assert Firearm.objects.get(firearm_id="firearm.data_export").history.get().history_user == importer


def test_command_names_the_line_and_column_of_each_error_and_writes_nothing(importer, tmp_path):
    path = tmp_path / "firearms.tsv"
    path.write_text(FIREARMS.replace("Send message\tmedium", "Send message\tscary"))

    with pytest.raises(CommandError) as refused:
        call_command("import_tsv", "firearms", str(path), "--user", "importer", stdout=io.StringIO())

    assert "line 4, column severity: Value 'scary' is not a valid choice." in str(refused.value)
    assert "nothing was written" in str(refused.value)
    assert not Firearm.objects.exists()


def test_command_refuses_firearms_from_anyone_but_platform_staff(tmp_path):
    tenant_owner(TenantFactory(slug="acme"), username="acme-owner", perms=IMPORTER_PERMS)
    path = tmp_path / "firearms.tsv"
    path.write_text(FIREARMS)
    with pytest.raises(CommandError, match=r"platform-wide.*\[platform_scope\]"):
        call_command("import_tsv", "firearms", str(path), "--user", "acme-owner", stdout=io.StringIO())
    assert not Firearm.objects.exists()


def test_command_refuses_a_user_without_the_import_permissions(tmp_path):
    UserFactory(username="reader", perms=["policies.view_firearm"])
    path = tmp_path / "firearms.tsv"
    path.write_text(FIREARMS)
    with pytest.raises(CommandError, match="reader may not import firearms: lacks policies.add_firearm"):
        call_command("import_tsv", "firearms", str(path), "--user", "reader")


# -- the admin -------------------------------------------------------------------------------------------

IMPORT_URL = "/admin/policies/firearm/import/"


def _upload(client, url, text, **extra):
    upload = SimpleUploadedFile("firearms.tsv", text.encode(), content_type="text/tab-separated-values")
    return client.post(url, {"import_file": upload, "format": "0", "resource": "0", **extra})


def test_admin_import_shows_a_preview_then_writes_on_confirm(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)
    FirearmFactory(firearm_id="firearm.send_message", name="Send message", severity="medium")

    preview = _upload(client, IMPORT_URL, FIREARMS)

    assert preview.status_code == 200
    report = preview.context["result"].report
    assert [row.outcome for row in report.rows] == ["new", "new", "unchanged"]
    html = preview.content.decode()
    assert "Confirm import" in html and "unchanged" in html
    assert Firearm.objects.count() == 1

    confirm = preview.context["confirm_form"]
    response = client.post(
        "/admin/policies/firearm/process_import/",
        {
            **{name: confirm.initial.get(name, "") for name in confirm.fields},
            "confirm": "Confirm import",
        },
    )

    assert response.status_code == 302
    assert Firearm.objects.count() == 3
    assert Firearm.objects.get(firearm_id="firearm.data_export").history.get().history_user == importer


def test_admin_preview_with_an_error_offers_no_confirm_and_names_line_and_column(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)

    preview = _upload(client, IMPORT_URL, FIREARMS.replace("Data export\thigh", "Data export\tdeadly"))

    html = preview.content.decode()
    assert preview.context.get("confirm_form") is None
    assert "Confirm import" not in html
    assert "<strong>severity</strong>: Value &#x27;deadly&#x27; is not a valid choice." in html
    assert "nothing was written" in html
    assert not Firearm.objects.exists()


def test_admin_import_of_a_malformed_file_says_which_line(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)
    response = _upload(client, IMPORT_URL, "firearm_id\tname\nfirearm.a\n")
    assert "line 2 has 1 cells, the header has 2" in response.content.decode()


@pytest.mark.parametrize(
    "url, perms",
    [
        (IMPORT_URL, ["policies.view_firearm", "policies.change_firearm"]),
        ("/admin/policies/firearmgrant/import/", ["policies.view_firearmgrant"]),
        ("/admin/policies/kpicorridor/import/", ["policies.view_kpicorridor", "policies.add_kpicorridor"]),
    ],
)
def test_admin_import_needs_the_write_permissions(client, url, perms):
    logged_in(client, staff(perms))
    assert client.get(url).status_code == 403
    assert "Import TSV" not in client.get(url.removesuffix("import/")).content.decode()


@pytest.mark.parametrize(
    "url",
    [IMPORT_URL, "/admin/policies/kpicorridor/import/"],
)
def test_admin_import_of_platform_rows_is_for_platform_staff_only(client, url):
    # A tenant owner holding every permission of the import: the button is hidden and the page refused.
    owner = tenant_owner(TenantFactory(slug="acme"), perms=IMPORTER_PERMS, is_staff=True)
    logged_in(client, owner)
    assert client.get(url).status_code == 403
    changelist = client.get(url.removesuffix("import/"))
    assert changelist.status_code == 200
    assert "Import TSV" not in changelist.content.decode()
    logged_in(client, make_importer())
    assert "Import TSV" in client.get(url.removesuffix("import/")).content.decode()
    assert client.get(url).status_code == 200


def _confirm_data(preview):
    confirm = preview.context["confirm_form"]
    return {**{name: confirm.initial.get(name, "") for name in confirm.fields}, "confirm": "Confirm import"}


def test_admin_grant_import_is_granted_by_the_signed_in_user(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)
    FirearmFactory(firearm_id="firearm.external_write")
    member(TenantFactory(slug="acme"), "ann")
    text = table(GRANT_HEADER, ["", "firearm.external_write", "acme", "user", "ann", "Release 4.2", ""])

    preview = _upload(client, "/admin/policies/firearmgrant/import/", text)
    assert [row.outcome for row in preview.context["result"].report.rows] == ["new"]
    response = client.post("/admin/policies/firearmgrant/process_import/", _confirm_data(preview))

    assert response.status_code == 302
    grant = FirearmGrant.objects.get()
    assert (grant.granted_by, grant.reason, grant.tenant.slug) == (importer, "Release 4.2", "acme")
    assert grant.history.get().history_user == importer


def test_admin_confirm_of_data_that_went_stale_writes_nothing_and_shows_why(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)
    kpi = KpiDefinitionFactory(kpi_id="kpi.lead_time")
    KpiDefinitionFactory(kpi_id="kpi.cycle_time")
    text = table(
        CORRIDOR_HEADER, ["kpi.cycle_time", "", "", "10", "", ""], ["kpi.lead_time", "", "", "5", "", ""]
    )
    preview = _upload(client, "/admin/policies/kpicorridor/import/", text)
    kpi.delete()  # someone removes a KPI between preview and confirm

    response = client.post("/admin/policies/kpicorridor/process_import/", _confirm_data(preview))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "<strong>kpi_id</strong>: No KPI definition &#x27;kpi.lead_time&#x27;." in html
    assert not KpiCorridor.objects.exists()


def test_admin_confirm_with_an_altered_file_writes_nothing(client, importer):
    importer.is_staff = True
    importer.save()
    logged_in(client, importer)
    preview = _upload(client, IMPORT_URL, FIREARMS)
    data = _confirm_data(preview)
    data["import_file_name"] = data["import_file_name"][:-3] + "abc"

    response = client.post("/admin/policies/firearm/process_import/", data, follow=True)

    assert "Nothing was imported: The uploaded file could not be read back" in response.content.decode()
    assert not Firearm.objects.exists()
