"""create_api_token USERNAME [--expiry-days N] [--unlock]: a new API token, printed once and stored only
hashed. A username locked out by failed sign-ins gets none unless `--unlock` clears the lockout first (an
`unlocked` security event): an operator's command is not a way around the login throttle."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from knox.models import AuthToken

from workbench.kit.access import SYSTEM
from workbench.kit.commands import RefusalCommand
from workbench.kit.refusals import Refusal
from workbench.selectors.accounts import username_failures, username_locked_out
from workbench.services.accounts import account_unlock

#: The furthest expiry a token takes (100 years); later dates are past the calendar's end.
MAX_EXPIRY_DAYS = 36500


class Command(RefusalCommand):
    help = (
        "Create an API token for USERNAME and print it once (only its hash is stored). "
        "Use it as the header 'Authorization: Token <token>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--expiry-days",
            type=int,
            default=None,
            help="Days until the token expires (default: never; revoke it in the admin).",
        )
        parser.add_argument(
            "--unlock",
            action="store_true",
            help="If the user is locked out by failed sign-ins, unlock it first (recorded as an unlock).",
        )

    def handle(self, *args, username, expiry_days, unlock, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            message = f"No user named {username!r}; create the user first (e.g. manage.py createsuperuser)."
            raise CommandError(message) from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; an API token for it would not authenticate.")
        if expiry_days is not None and not 1 <= expiry_days <= MAX_EXPIRY_DAYS:
            raise CommandError(f"--expiry-days must be a whole number of days from 1 to {MAX_EXPIRY_DAYS}.")
        expiry = timedelta(days=expiry_days) if expiry_days else None
        with transaction.atomic():
            if username_locked_out(username):
                if not unlock:
                    failures = username_failures(username)
                    raise Refusal(
                        423,
                        "locked_out",
                        f"User {username!r} is locked out after {failures} failed sign-ins; no token "
                        "created. Find out why first; --unlock clears the lockout and creates the token "
                        "(recorded as an unlock).",
                    )
                cleared = account_unlock(user=SYSTEM, username=username)
                self.stderr.write(f"Unlocked {username} ({cleared} failed sign-ins cleared).")
            instance, token = AuthToken.objects.create(user=user, expiry=expiry)
        until = f"expires {instance.expiry:%Y-%m-%dT%H:%M:%SZ}" if instance.expiry else "does not expire"
        self.stderr.write(f"API token for {username} ({until}); it is shown only this once:")
        self.stdout.write(token)
