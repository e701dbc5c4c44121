"""create_local_staff: a local superuser "admin" with a fresh random password, for `make run`.

Running it again resets the password, so the login it prints is always the one that works.
Local development only: it refuses to run unless DJANGO_DEBUG is on.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from workbench.kit.access import SYSTEM
from workbench.kit.commands import RefusalCommand
from workbench.kit.rows import row_save
from workbench.models import Membership, Tenant

DEMO_TENANT = "acme"


class Command(RefusalCommand):
    help = (
        "Create (or reset) the local superuser 'admin' with a random password, add it to tenant "
        f"'{DEMO_TENANT}' if that tenant exists, and print the login. Needs DJANGO_DEBUG=1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/admin/", help="Admin address printed with the login."
        )

    def handle(self, *args, username, url, **options):
        if not settings.DEBUG:
            raise CommandError("create_local_staff is for local development; set DJANGO_DEBUG=1.")
        password = secrets.token_urlsafe(12)
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(**{User.USERNAME_FIELD: username}).first() or User(
                **{User.USERNAME_FIELD: username}
            )
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            row_save(instance=user, user=SYSTEM)
            tenant = Tenant.objects.filter(slug=DEMO_TENANT).first()
            if tenant and not Membership.objects.filter(tenant=tenant, user=user).exists():
                row_save(
                    instance=Membership(tenant=tenant, user=user, role=Membership.Role.OWNER), user=SYSTEM
                )
        self.stdout.write(
            f"Local staff login\n  url:      {url}\n  username: {username}\n  password: {password}\n"
        )
