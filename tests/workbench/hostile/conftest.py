"""The dev environment, loaded once for a test module and rolled back after it."""

import pytest
from django.db import transaction

from tests.workbench.factories import MembershipFactory, SuperuserFactory, draft_spec, token_client
from tests.workbench.hostile.world import real_ids


@pytest.fixture(scope="module")
def dev_world(django_db_setup, django_db_blocker):
    """(superuser API client, ids) on the dev environment; the module's tests run in savepoints inside
    the transaction that loaded it, which is rolled back at the end."""
    from workbench.models import Membership, Tenant
    from workbench.services.drafts import draft_create
    from workbench.services.environments import environment_load

    with django_db_blocker.unblock(), transaction.atomic():
        environment_load(name="dev", allow_demo_users=True)
        user = SuperuserFactory(username="hostile")
        for tenant in Tenant.objects.all():
            MembershipFactory(tenant=tenant, user=user, role=Membership.Role.OWNER)
        draft_create(
            tenant=Tenant.objects.get(slug="acme"),
            user=user,
            connector_id="hostile-probe",
            spec_snapshot=draft_spec("hostile-probe"),
        )
        yield token_client(user), real_ids()
        transaction.set_rollback(True)
