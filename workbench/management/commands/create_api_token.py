"""create_api_token USERNAME [--expiry-days N]: a new API token, printed once and stored only hashed."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from knox.models import AuthToken

from workbench.kit.commands import RefusalCommand


class Command(RefusalCommand):
    help = (
        "Create an API token for USERNAME and print it once (only its hash is stored). "
        "Use it as the header 'Authorization: Token <token>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--expiry-days", type=int, default=None,
            help="Days until the token expires (default: never; revoke it in the admin).",
        )

    def handle(self, *args, username, expiry_days, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            message = f"No user named {username!r}; create the user first (e.g. manage.py createsuperuser)."
            raise CommandError(message) from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; an API token for it would not authenticate.")
        if expiry_days is not None and expiry_days < 1:
            raise CommandError("--expiry-days must be a positive number of days.")
        expiry = timedelta(days=expiry_days) if expiry_days else None
        instance, token = AuthToken.objects.create(user=user, expiry=expiry)
        until = f"expires {instance.expiry:%Y-%m-%dT%H:%M:%SZ}" if instance.expiry else "does not expire"
        self.stderr.write(f"API token for {username} ({until}); it is shown only this once:")
        self.stdout.write(token)
