"""Helpers of the binding imports' tests: connectors published the way staff do it (with firearms and
KPIs), the sheets as a spreadsheet gives them back, and an import through the service, the command or
the admin's TSV exchange page."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from policies.models import FirearmBinding, KpiToolBinding
from workbench.exchange import IMPORTS
from workbench.kit.exchange.importing import run_import
from workbench.services.drafts import PUBLISH_PERMISSION

IMPORT_PERMS = [
    "registries.view_scope",
    "policies.view_firearmbinding",
    "policies.view_kpitoolbinding",
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
    PUBLISH_PERMISSION,
]
FIREARM_HEADER = ["action_name", "firearm_id"]
KPI_HEADER = ["action_name", "kpi_id"]
#: the admin's TSV exchange page offers its imports in this order (the form's `resource` choice)
ADMIN_CHOICE = {"policy-matrix": "0", "firearm-bindings": "1", "kpi-tool-bindings": "2"}


def sheet(header, *rows, crlf=True):
    """A TSV as Google Sheets gives it back (CRLF line ends)."""
    end = "\r\n" if crlf else "\n"
    return "".join("\t".join(cells) + end for cells in (header, *rows))


def live_firearm_sheet():
    """Every live firearm binding of a connector scope, as rows of the firearm-bindings sheet."""
    return [[action, firearm] for action, firearm in FirearmBinding.objects.order_by("action_name")
            .values_list("action_name", "firearm__firearm_id")]


def live_kpi_rows():
    return sorted(KpiToolBinding.objects.values_list("action_name", "kpi__kpi_id"))


def live_firearm_rows():
    return sorted(FirearmBinding.objects.values_list("action_name", "firearm__firearm_id"))


def import_sheet(how, kind, user, tenant, text, tmp_path, *, dry_run=False):
    """Import `text` as `user` in `tenant` through the service or the command: (report or None, output)."""
    if how == "service":
        report = run_import(IMPORTS[kind](user=user, tenant=tenant), text, dry_run=dry_run)
        assert report.ok, list(report.error_lines())
        lines = [row.describe() for row in report.rows if row.outcome in ("new", "update")]
        return report, "\n".join([*lines, *report.notes, report.summary()])
    path = tmp_path / f"{kind}.tsv"
    path.write_text(text)
    out = io.StringIO()
    flags = ["--dry-run"] if dry_run else []
    call_command(
        "import_tsv", kind, str(path), "--user", user.username, "--tenant", tenant.slug, *flags, stdout=out
    )
    return None, out.getvalue()


def preview_in_admin(client, kind, text, tenant):
    upload = SimpleUploadedFile(f"{kind}.tsv", text.encode(), content_type="text/tab-separated-values")
    return client.post(
        "/admin/workbench/tsvexchange/import/",
        {"import_file": upload, "format": "0", "resource": ADMIN_CHOICE[kind], "tenant": tenant.pk},
    )


def confirm_in_admin(client, preview):
    confirm = preview.context["confirm_form"]
    data = {name: confirm.initial.get(name, "") for name in confirm.fields}
    return client.post("/admin/workbench/tsvexchange/process_import/", {**data, "confirm": "Confirm import"})
