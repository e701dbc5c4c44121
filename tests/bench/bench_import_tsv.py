"""TSV import of a 5 MB sheet: `rows` firearm grants (10,000 by default) with long reasons, ~5 MB.

Firearm grants are the import whose rows are tenant rows: each row names a firearm, a tenant, a
principal (a member of that tenant, a group or the tenant itself) and carries a free-text reason (the
cell that makes a sheet megabytes large), and each is given through the grant service, which checks
the importer against the access gate. The rows spread over 50 tenants of 20 members each.

Subjects: `run_import` (the entry point the admin, the API and `import_tsv` share) of the whole file,
as a preview (dry run: every row read, resolved, validated and written, then rolled back) and as a
commit (the same, kept; each timed run is rolled back afterwards so every run imports anew).
Baseline: simple-history's `bulk_create_with_history` of the same grants (their references already
resolved to ids, no checks), with the importer and a reason on each history row.

The file stays under the upload caps (WORKBENCH_UPLOAD_MAX_BYTES, WORKBENCH_UPLOAD_MAX_ROWS) and each
reason under the model's free-text limit.
"""

import time

from django.conf import settings
from django.db import transaction

from tests.bench.__main__ import rolled_back

REPEAT = 2
TARGET_BYTES = 5 * 1024 * 1024
TENANTS = 50
MEMBERS = 20
GROUPS = 20
FIREARMS = 10
HEADER = ["uid", "firearm_id", "tenant", "principal_type", "principal", "reason", "expires_at"]
WORDS = (
    "release train on call rotation needs write access to the external tracker for the incident "
    "review of quarter two as agreed with the security owner and the data protection office "
)


def _world():
    """Firearms, tenants with members, groups, and the importer (platform staff, who grants in every
    tenant): everything the file's rows refer to, inserted in bulk."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from policies.models import Firearm
    from tests.workbench.factories import platform_staff
    from workbench.tenancy.models import Membership, Tenant

    user_model = get_user_model()
    Firearm.objects.bulk_create([
        Firearm(firearm_id=f"firearm.bench_{index:02d}", name=f"Bench {index}",
                severity="critical" if index == 0 else "high")
        for index in range(FIREARMS)
    ])
    Tenant.objects.bulk_create([Tenant(slug=f"bench-{index:03d}", name=f"Bench {index}")
                                for index in range(TENANTS)])
    user_model.objects.bulk_create([
        user_model(username=f"bench-{tenant:03d}-{index:02d}", password="!")
        for tenant in range(TENANTS) for index in range(MEMBERS)
    ])
    tenants = dict(Tenant.objects.filter(slug__startswith="bench-").values_list("slug", "pk"))
    users = dict(user_model.objects.filter(username__startswith="bench-").values_list("username", "pk"))
    Membership.objects.bulk_create([
        Membership(tenant_id=tenants[f"bench-{tenant:03d}"], user_id=users[f"bench-{tenant:03d}-{index:02d}"],
                   role=Membership.Role.VIEWER)
        for tenant in range(TENANTS) for index in range(MEMBERS)
    ])
    Group.objects.bulk_create([Group(name=f"bench-group-{index:02d}") for index in range(GROUPS)])
    return platform_staff(["policies.add_firearmgrant", "policies.view_firearmgrant"],
                          username="bench-grant-importer")


def _cells(index):
    """The cells of data row `index` but its reason: 8 user grants, a group grant, a tenant grant in 10."""
    tenant = f"bench-{index % TENANTS:03d}"
    kind = ("user",) * 8 + ("group", "tenant")
    principal_type = kind[index % 10]
    principal = {
        "user": f"{tenant}-{(index // TENANTS) % MEMBERS:02d}",
        "group": f"bench-group-{index % GROUPS:02d}",
        "tenant": tenant,
    }[principal_type]
    expires = "2099-01-01T00:00:00Z" if index % 3 == 0 else ""
    return ["", f"firearm.bench_{index % FIREARMS:02d}", tenant, principal_type, principal, expires]


def grants_tsv(rows, target=TARGET_BYTES):
    """A grants sheet of `rows` rows about `target` bytes large: each reason is padded to share it."""
    from workbench.kit.models import REASON_LIMIT

    header = "\t".join(HEADER) + "\n"
    cells = [_cells(index) for index in range(rows)]
    fixed = len(header) + sum(len("\t".join(row)) + 2 for row in cells)  # + the reason's tab and the \n
    length = max(40, min(REASON_LIMIT, (target - fixed) // max(rows, 1)))
    filler = WORDS * (length // len(WORDS) + 2)
    lines = [header]
    for index, (uid, firearm, tenant, kind, principal, expires) in enumerate(cells):
        reason = (f"Grant {index}: " + filler)[: length - 1].rstrip() + "."
        lines.append("\t".join([uid, firearm, tenant, kind, principal, reason, expires]) + "\n")
    return "".join(lines)


def _subject(user, text, rows, *, dry_run):
    from policies.exchange import FirearmGrantResource
    from policies.models import FirearmGrant
    from workbench.kit.exchange.importing import run_import

    def imported():
        report = run_import(FirearmGrantResource(user=user), text, dry_run=dry_run, file_name="bench.tsv")
        if not report.ok or len(report.rows) != rows or report.totals()["new"] != rows:
            raise SystemExit(f"the import failed: {list(report.error_lines())[:3]}")
        written = FirearmGrant.objects.count()
        if written != (0 if dry_run else rows):
            raise SystemExit(f"the import wrote {written} grants (dry run: {dry_run})")

    return imported


def _baseline(user, text):
    """bulk_create_with_history of the file's grants, their references resolved beforehand."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from simple_history.utils import bulk_create_with_history

    from policies.models import Firearm, FirearmGrant
    from workbench.kit.exchange import tsv
    from workbench.tenancy.models import Tenant

    firearms = {firearm.firearm_id: firearm for firearm in Firearm.objects.all()}
    tenants = dict(Tenant.objects.values_list("slug", "pk"))
    users = dict(get_user_model().objects.values_list("username", "pk"))
    groups = dict(Group.objects.values_list("name", "pk"))
    time_cell = tsv.TimeCell()
    rows = [line.split("\t") for line in text.splitlines()[1:]]

    def inserted():
        grants = []
        for _uid, firearm_id, slug, kind, principal, reason, expires in rows:
            firearm = firearms[firearm_id]
            grants.append(FirearmGrant(
                firearm=firearm, principal_type=kind, tenant_id=tenants[slug or principal],
                user_id=users[principal] if kind == "user" else None,
                group_id=groups[principal] if kind == "group" else None,
                reason=reason, granted_by=user, expires_at=time_cell.clean(expires),
                needs_approval=firearm.severity == Firearm.Severity.CRITICAL,
            ))
        bulk_create_with_history(grants, FirearmGrant, batch_size=1000, default_user=user,
                                 default_change_reason="imported from TSV bench.tsv")

    return inserted


def interleaved_best(fns, repeat):
    """The fastest of `repeat` timed calls of each of `fns` after one warm-up round, taking turns: on
    PostgreSQL each rolled-back run leaves dead rows behind it (the outer transaction never ends), so
    timing one subject's runs after another's would favour whichever went first."""
    timings = [[] for _ in fns]
    for round_ in range(repeat + 1):
        for fn, times in zip(fns, timings, strict=True):
            start = time.perf_counter()
            fn()
            if round_:
                times.append(time.perf_counter() - start)
    return [min(times) for times in timings]


def run(*, rows):
    with transaction.atomic():
        user = _world()
        text = grants_tsv(rows)
        size = len(text.encode())
        if size > settings.WORKBENCH_UPLOAD_MAX_BYTES or rows > settings.WORKBENCH_UPLOAD_MAX_ROWS:
            raise SystemExit(f"the sheet ({size} bytes, {rows} rows) is over the upload caps")
        what = f"{rows} grants, {size / 1024 / 1024:.1f} MB"
        baseline, preview, commit = interleaved_best(
            [
                rolled_back(_baseline(user, text)),
                rolled_back(_subject(user, text, rows, dry_run=True)),
                rolled_back(_subject(user, text, rows, dry_run=False)),
            ],
            REPEAT,
        )
        transaction.set_rollback(True)
    return [
        (f"import firearm-grants.tsv preview ({what})", baseline, preview),
        (f"import firearm-grants.tsv commit ({what})", baseline, commit),
    ]
