"""Helpers of the policy matrix tests: the sheet permissions, connectors published the way staff do it,
and the matrix read, edited in a spreadsheet and imported (service, command, admin)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.workbench.exchange_kit import body
from tests.workbench.factories import draft_spec, token_client, walk_to
from workbench.exchange.policy_matrix import PolicyMatrixResource
from workbench.kit.exchange.importing import run_import
from workbench.services.drafts import PUBLISH_PERMISSION, draft_create, draft_publish, draft_validate

SHEETS_PERMS = [
    "registries.view_scope",
    "policies.view_firearmbinding",
    "policies.view_strategylock",
    "workbench.view_workbenchdraft",
    "workbench.add_workbenchdraft",
    "workbench.change_workbenchdraft",
    PUBLISH_PERMISSION,
]
HEADER = "connector_id\tscope\tfirearm_id\tstrategy_lock\n"


def publish(user, tenant, connector_id, version, firearms, kpis=None):
    """A connector published the way staff do it: draft, walk the stages, validate, publish. `firearms`
    maps each scope to its firearm (None for NONE), `kpis` scopes to the KPIs they move."""
    scopes = [{"name": name, "description": "", "tools": []} for name in firearms]
    draft = draft_create(
        tenant=tenant,
        user=user,
        connector_id=connector_id,
        spec_snapshot=draft_spec(connector_id, version, tools=[], scopes=scopes),
        policy_snapshot={"firearms": firearms, "kpis": kpis or {}},
    )
    walk_to(draft, user)
    draft_validate(draft_id=draft.pk, user=user)
    return draft_publish(draft_id=draft.pk, user=user)


def matrix(user):
    return body(token_client(user).get("/api/v1/exports/policy-matrix.tsv")).decode()


def like_google_sheets(text, edits):
    """What Sheets gives back after cells are edited: the same table, CRLF line ends."""
    lines = text.splitlines()
    for (connector_id, scope), firearm_id in edits.items():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{connector_id}\t{scope}\t"))
        cells = lines[index].split("\t")
        cells[2] = firearm_id
        lines[index] = "\t".join(cells)
    return "".join(line + "\r\n" for line in lines)


def import_in_admin(client, text, tenant):
    upload = SimpleUploadedFile("policy-matrix.tsv", text.encode(), content_type="text/tab-separated-values")
    preview = client.post(
        "/admin/workbench/tsvexchange/import/",
        {
            "import_file": upload,
            "format": "0",
            "resource": "0",
            "tenant": tenant.pk,
        },
    )
    assert preview.status_code == 200
    return preview


def confirm_in_admin(client, preview):
    confirm = preview.context["confirm_form"]
    data = {name: confirm.initial.get(name, "") for name in confirm.fields}
    return client.post("/admin/workbench/tsvexchange/process_import/", {**data, "confirm": "Confirm import"})


def import_matrix(how, user, tenant, text, tmp_path, *, dry_run=False):
    """Import `text` as `user` in `tenant` through the service or the command: (report or None, output)."""
    if how == "service":
        report = run_import(PolicyMatrixResource(user=user, tenant=tenant), text, dry_run=dry_run)
        assert report.ok
        lines = [row.describe() for row in report.rows if row.outcome in ("new", "update")]
        return report, "\n".join([*lines, *report.notes, report.summary()])
    path = tmp_path / "policy-matrix.tsv"
    path.write_text(text)
    out = io.StringIO()
    flags = ["--dry-run"] if dry_run else []
    call_command(
        "import_tsv",
        "policy-matrix",
        str(path),
        "--user",
        user.username,
        "--tenant",
        tenant.slug,
        *flags,
        stdout=out,
    )
    return None, out.getvalue()
