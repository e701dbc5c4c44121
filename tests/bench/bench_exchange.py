"""TSV exchange: the three exports at 10x `rows` (100,000 by default) and an import of `rows` firearms.

Exports. Subject: GET /api/v1/exports/<kind>.tsv through the whole stack (token authentication,
permission check, the import-export resource's streaming writer: per-cell formatting, the tab/line
break guard, UTF-8 encoding), read to the last byte. Baseline: the same queryset's values_list (the
same SQL, annotations included) written by a plain csv.writer into memory and encoded; no formatting.
Coverage's subject also runs its rules and, per chunk of routes, one lookup of the open drafts and one
of the entitlements declared.

`export_tsv coverage` (the operator's command, its stderr notes included: every tenth published version
declares a billing entitlement). Subject: call_command into a stdout and a stderr that count and drop
what they are given. Baseline: the coverage row's. Timed with open drafts of two sizes (one unpublished
connector in DRAFT_SHARE has one, the first ones: a route in three of the first chunks is a draft's),
and its peak Python memory (tracemalloc) printed with the small and the large drafts and at a tenth of
the routes: flat in draft size and in rows.

Import. Subject: `run_import` of a 10,000-row firearms TSV, new rows (the preview's work and the
writes in one all-or-nothing transaction: per row full_clean, row_save and its simple-history row).
Baseline: Firearm.objects.bulk_create of the same rows, no checks and no history. Each timed run is
rolled back, so every run imports anew.

Rows are inserted with COPY (PostgreSQL) or executemany (SQLite): bulk_create would take longer than the
runs measured.
"""

import csv
import io
import json
import tracemalloc
from contextlib import contextmanager, nullcontext

from django.db import connection, transaction

from tests.bench.__main__ import best_of, rolled_back
from tests.bench.bench_import_tsv import interleaved_best

EXPORT_REPEAT = 3
IMPORT_REPEAT = 2
COMMAND_REPEAT = 5
DRAFT_SHARE = 10  # one unpublished connector in ten has an open draft (the first ones: whole chunks)
SMALL_DRAFT_TOOLS, LARGE_DRAFT_TOOLS = 4, 120
ENTITLEMENT_EVERY = 10  # every tenth published version declares a billing entitlement


def _insert(model, columns, rows):
    """Insert `rows` (tuples in `columns` order) fast: COPY on PostgreSQL, executemany on SQLite."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _draft_documents(connector_id, tools):
    """(spec_snapshot, policy_snapshot) of an open draft with `tools` tools, a scope per three (every
    other one decided), declaring a billing entitlement; 120 tools make about 36 KB, as the issue's."""
    from tests.workbench.factories import draft_spec, draft_tool

    about = "Reads or changes one kind of record of the service; arguments as the service names them. " * 2
    names = [f"scope_{index:03d}" for index in range(max(tools // 3, 1))]
    spec = draft_spec(
        connector_id, "0.1.0",
        tools=[{**draft_tool(f"tool_{index:03d}"), "description": about} for index in range(tools)],
        scopes=[{"name": name, "description": "", "tools": [f"tool_{index * 3:03d}"]}
                for index, name in enumerate(names)],
        portability={"entitlements": ["billing.bench_seats"]},
    )
    return json.dumps(spec), json.dumps({"firearms": {name: None for name in names[::2]}, "kpis": {}})


def _registry(count):
    """`count` connectors (one published version with one scope, every third scope bound, every tenth
    version declaring an entitlement), a third as many connectors without a version (the first one in
    DRAFT_SHARE of them with an open draft), and `count` engine routes: a third unwrapped, a third
    wrapping a connector without a version, a third a published one."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from policies.models import Firearm, FirearmBinding
    from registries.models import ComponentSpec, Connector, EngineRoute, Scope
    from workbench.models import Tenant, WorkbenchDraft

    now = timezone.now()
    owner = Tenant.objects.create(slug="bench", name="Bench").pk
    firearm = Firearm.objects.create(firearm_id="firearm.bench", name="Bench")
    metadata = '{"spec_class": "mcp_connector", "draft_id": "draft_00000000"}'
    paid = '{"spec_class": "mcp_connector", "draft_id": "draft_00000000", "entitlements": ["billing.bench"]}'
    ids = [f"bench-{index:06d}" for index in range(count)]
    _insert(ComponentSpec, ["spec_id", "version", "kind", "name", "description", "schema", "metadata",
                            "version_major", "version_minor", "version_patch", "published_at",
                            "deprecation_message"],
            [(cid, "1.0.0", "component", cid, "", "{}", paid if index % ENTITLEMENT_EVERY == 0 else metadata,
              1, 0, 0, now, "") for index, cid in enumerate(ids)])
    specs = dict(ComponentSpec.objects.filter(spec_id__in=ids).values_list("spec_id", "pk"))
    _insert(Connector, ["connector_id", "name", "description", "latest_spec_id", "owner_id", "created_at"],
            [(cid, cid, "", specs[cid], owner, now) for cid in ids])
    connectors = dict(Connector.objects.values_list("connector_id", "pk"))
    scopes = [(specs[cid], connectors[cid], "scope_read", "", "[]") for cid in ids]
    bindings = [(f"{cid}:scope_read", firearm.pk, "", now) for cid in ids[::3]]
    _insert(Scope, ["spec_id", "connector_id", "name", "description", "tools"], scopes)
    _insert(FirearmBinding, ["action_name", "firearm_id", "note", "created_at"], bindings)
    unpublished = [f"idle-{index:06d}" for index in range(count // 3)]
    _insert(Connector, ["connector_id", "name", "description", "latest_spec_id", "owner_id", "created_at"],
            [(cid, cid, "", None, owner, now) for cid in unpublished])
    connectors = dict(Connector.objects.values_list("connector_id", "pk"))
    routes = []
    for index in range(count):
        wrapper = [None, connectors.get(f"idle-{index // 3:06d}"), connectors[ids[index]]][index % 3]
        routes.append((f"/route-{index:06d}/*", wrapper, ""))
    _insert(EngineRoute, ["pattern", "connector_id", "description"], routes)
    drafter = get_user_model().objects.create(username="bench-drafter").pk
    _insert(WorkbenchDraft, ["id", "tenant_id", "owner_id", "connector_id", "stage", "status",
                             "spec_snapshot", "policy_snapshot", "revision", "revised_at",
                             "validation_findings", "published_version", "created_at"],
            [(f"draft_{index:012x}", owner, drafter, cid, "policy", "draft",
              *_draft_documents(cid, SMALL_DRAFT_TOOLS), 1, now, "[]", "", now)
             for index, cid in enumerate(unpublished[: len(unpublished) // DRAFT_SHARE])])


def _client():
    from tests.workbench.factories import UserFactory, token_client
    from workbench.exchange import EXPORTS

    perms = sorted({perm for resource in EXPORTS.values() for perm in resource.export_permissions})
    return token_client(UserFactory(username="bench-exchange", perms=perms))


def _export_subject(client, kind):
    def download():
        response = client.get(f"/api/v1/exports/{kind}.tsv")
        if response.status_code != 200:
            raise SystemExit(f"GET {kind}.tsv answered {response.status_code}")
        return b"".join(response.streaming_content)

    return download


def _baseline_rows(kind):
    """The values_list each export reads (the same SQL), without what the export computes in Python."""
    from workbench.exchange import EXPORTS
    from workbench.selectors.coverage import _COLUMNS, routes_for_coverage

    if kind == "coverage":
        return routes_for_coverage().values_list(*_COLUMNS)
    resource = EXPORTS[kind]()
    if kind == "policy-matrix":
        return resource.get_queryset().values_list("connector__connector_id", "name", "bound_firearm_id")
    return resource.get_queryset().values_list(*[field.attribute for field in resource.export_fields()])


def _export_baseline(kind, resource_class):
    """csv.writer over values_list of the export's own queryset, nothing formatted."""

    def write():
        rows = _baseline_rows(kind)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        writer.writerow(resource_class().headers())
        writer.writerows(rows.iterator(chunk_size=2000))
        return buffer.getvalue().encode()

    return write


class _Counted(io.TextIOBase):
    """A command's stdout or stderr that counts lines and keeps nothing (memory is the command's)."""

    def __init__(self):
        super().__init__()
        self.lines = 0

    def write(self, text):
        self.lines += text.count("\n")
        return len(text)


def _command():
    """export_tsv coverage; (file lines, stderr lines)."""
    from django.core.management import call_command

    out, err = _Counted(), _Counted()
    call_command("export_tsv", "coverage", stdout=out, stderr=err)
    return out.lines, err.lines


def _peak_of_command():
    tracemalloc.start()
    try:
        _command()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextmanager
def _rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@contextmanager
def _large_drafts():
    """Every open draft grown to LARGE_DRAFT_TOOLS tools while inside (the update is rolled back)."""
    from workbench.models import WorkbenchDraft

    with _rolled_back():
        spec, policy = _draft_documents("bench-large", LARGE_DRAFT_TOOLS)
        table = connection.ops.quote_name(WorkbenchDraft._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET spec_snapshot = %s, policy_snapshot = %s", [spec, policy])
        yield


@contextmanager
def _a_tenth_of_the_routes(count):
    from registries.models import EngineRoute

    with _rolled_back():
        table = connection.ops.quote_name(EngineRoute._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE pattern >= %s", [f"/route-{count // 10:06d}/"])
        yield


def _command_rows(count):
    """The command's rows (with the small, then the large drafts); its peak memory printed."""
    from workbench.exchange.coverage import CoverageResource

    baseline = _export_baseline("coverage", CoverageResource)
    lines, notes = _command()
    paid = sum(1 for index in range(2, count, 3) if index % ENTITLEMENT_EVERY == 0)
    drafts = count // 3 // DRAFT_SHARE
    if lines - 1 != count or notes != paid + drafts:
        raise SystemExit(f"export_tsv coverage wrote {lines} lines and {notes} notes")
    sizes = [len(_draft_documents("bench-size", tools)[0]) // 1024
             for tools in (SMALL_DRAFT_TOOLS, LARGE_DRAFT_TOOLS)]
    rows, peaks = [], []
    for size, sized in zip(sizes, [nullcontext, _large_drafts], strict=True):
        with sized():
            base, subject = interleaved_best([baseline, _command], COMMAND_REPEAT)
            peaks.append(_peak_of_command())
        rows.append((f"export_tsv coverage command ({count} rows, {drafts} drafts of {size} KB)",
                     base, subject))
    with _a_tenth_of_the_routes(count):
        tenth = _peak_of_command()
    small, large = (peak / 2**20 for peak in peaks)
    print(f"export_tsv coverage peak memory (tracemalloc): {count // 10} routes {tenth / 2**20:.1f} MB, "
          f"{count} routes {small:.1f} MB; {drafts} drafts of {sizes[0]} KB {small:.1f} MB, "
          f"of {sizes[1]} KB {large:.1f} MB", flush=True)
    return rows


def _firearms_tsv(rows):
    lines = ["firearm_id\tname\tseverity\tdescription"]
    lines += [f"firearm.bench_{index:06d}\tBench capability {index}\thigh\tMade up" for index in range(rows)]
    return "\n".join(lines) + "\n"


def _import_subject(user, text, rows):
    from policies.exchange import FirearmResource
    from policies.models import Firearm
    from workbench.kit.exchange.importing import run_import

    def imported():
        report = run_import(FirearmResource(user=user), text, dry_run=False, file_name="bench.tsv")
        written = Firearm.objects.filter(firearm_id__startswith="firearm.bench_").count()
        if not report.written or written != rows:
            raise SystemExit(f"the import did not write: {list(report.error_lines())[:3]}")

    return imported


def _import_baseline(rows):
    from policies.models import Firearm

    def inserted():
        Firearm.objects.bulk_create(
            [Firearm(firearm_id=f"firearm.bench_{index:06d}", name=f"Bench capability {index}",
                     severity="high", description="Made up") for index in range(rows)],
            batch_size=1000,
        )

    return inserted


def run(*, rows):
    from tests.workbench.factories import platform_staff
    from workbench.exchange import EXPORTS

    results = []
    export_rows = rows * 10
    with transaction.atomic():
        _registry(export_rows)
        client = _client()
        for kind, resource_class in EXPORTS.items():
            subject, baseline = _export_subject(client, kind), _export_baseline(kind, resource_class)
            lines = subject().count(b"\n") - 1
            if lines != export_rows or baseline().count(b"\n") - 1 != lines:
                raise SystemExit(f"{kind}: the export and the baseline wrote different row counts")
            results.append((f"export {kind}.tsv ({lines} rows)", best_of(baseline, EXPORT_REPEAT),
                            best_of(subject, EXPORT_REPEAT)))
        results.extend(_command_rows(export_rows))
        transaction.set_rollback(True)

    with transaction.atomic():
        # Firearms are platform rows: the importer is platform staff.
        user = platform_staff(["policies.add_firearm", "policies.change_firearm"], username="bench-importer")
        text = _firearms_tsv(rows)
        results.append((f"import firearms.tsv ({rows} new rows)",
                        best_of(rolled_back(_import_baseline(rows)), IMPORT_REPEAT),
                        best_of(rolled_back(_import_subject(user, text, rows)), IMPORT_REPEAT)))
        transaction.set_rollback(True)
    return results
