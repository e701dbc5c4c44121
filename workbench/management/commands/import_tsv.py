"""import_tsv KIND PATH --user USERNAME [--tenant SLUG] [--dry-run]: an import with a preview of every row."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from workbench.exchange import IMPORTS
from workbench.kit import uploads
from workbench.kit.commands import RefusalCommand
from workbench.kit.exchange.importing import run_import
from workbench.models import Tenant
from workbench.selectors.drafts import tenants_of


class Command(RefusalCommand):
    help = (
        "Import a TSV file (KIND: firearms, firearm-grants, kpi-corridors, policy-matrix, firearm-bindings, "
        "kpi-tool-bindings). Every row is checked first and reported by line and column; the rows are "
        "written all together or not at all. A policy-matrix, firearm-bindings or kpi-tool-bindings import "
        "never changes live rows: it writes drafts (one per changed connector) owned by --user in --tenant."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTS))
        parser.add_argument("path")
        parser.add_argument(
            "--user", required=True,
            help="Who imports: recorded on history rows, as granted_by of grants, as owner of drafts.",
        )
        parser.add_argument(
            "--tenant",
            help="Tenant of the drafts (imports into drafts; default: the user's only writable tenant).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Preview only: write nothing.")

    def handle(self, *args, kind, path, user, tenant=None, dry_run=False, **options):
        resource_class = IMPORTS[kind]
        importer = self._user(user)
        tenant = self._tenant(importer, tenant) if getattr(resource_class, "needs_tenant", False) else None
        try:
            data = uploads.read_file(path)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        resource = resource_class(user=importer, tenant=tenant, file_name=Path(path).name)
        report = run_import(resource, data, dry_run=dry_run, file_name=Path(path).name)
        for row in report.rows:
            if row.outcome in ("new", "update"):
                self.stdout.write(row.describe())
        for note in report.notes:
            self.stdout.write(note)
        if not report.ok:
            raise report.refusal()
        style = self.style.WARNING if dry_run else self.style.SUCCESS
        self.stdout.write(style(report.summary()))

    def _user(self, username):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user named {username!r}.")
        return user

    def _tenant(self, user, slug):
        if slug:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"No tenant {slug!r}.")
            return tenant
        choices = list(tenants_of(user, writable=True)[:2])
        if len(choices) != 1:
            raise CommandError("Name the tenant of the drafts with --tenant SLUG.")
        return choices[0]
