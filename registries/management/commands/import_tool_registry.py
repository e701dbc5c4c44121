"""import_tool_registry PATH [--dry-run] [--allow-key-change --reason WHY] [--user U]: the registry becomes
the file, through the registry import service (the admin's upload calls the same one)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from registries.services.tool_registry import tool_registry_import
from workbench.kit.access import SYSTEM
from workbench.kit.commands import RefusalCommand
from workbench.kit.uploads import read_file


class Command(RefusalCommand):
    help = (
        "Import tools.registry.json whole: validate every tool first; one invalid tool and nothing is "
        "written. Tools the file does not list are removed. A file that makes a tool of the keyed tools' "
        "list non-keyed, keys it by another field or drops it is refused unless --allow-key-change."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Path of the registry file, e.g. seeds/tools.registry.json.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show the plan; write nothing."
        )
        parser.add_argument(
            "--allow-key-change",
            action="store_true",
            help="Deliberately change the keyed tools' list: the file's keyed tools become the list. "
            "Needs --reason; the reason and who are kept with the import and in the tools' history.",
        )
        parser.add_argument("--reason", default="", help="Why the keyed tools' list changes.")
        parser.add_argument(
            "--user",
            help="Import as this user (platform staff), who is recorded; default: the platform itself.",
        )

    def handle(self, *args, path, dry_run, allow_key_change, reason, user=None, **options):
        try:
            content = read_file(path)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        # An operator at the deployment's shell: the registry is the platform's, and so is this command.
        plan = tool_registry_import(
            content=content,
            user=self._user(user) if user else SYSTEM,
            source=path,
            dry_run=dry_run,
            allow_key_change=allow_key_change,
            reason=reason,
        )
        for label, names in (("create", plan.created), ("update", plan.updated), ("remove", plan.removed)):
            for name in names:
                self.stdout.write(f"{label} {name}")
        for change in plan.key_changes:
            self.stdout.write(self.style.WARNING(f"key change {change}"))
        if dry_run:
            self.stdout.write(self.style.WARNING(f"Dry run, nothing written: {plan.summary()}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {path}: {plan.summary()}."))

    def _user(self, username):
        User = get_user_model()
        found = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if found is None or not found.is_active:
            raise CommandError(f"No active user named {username!r}.")
        return found
