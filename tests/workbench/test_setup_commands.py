"""What `make run` relies on: the dev environment loads, and create_local_staff prints a working login."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from policies.models import Firearm, KpiCorridor, KpiDefinition
from registries.models import ComponentSpec, Connector, EngineRoute, RoutingConfig, ToolDefinition
from tests.workbench.factories import TenantFactory, UserFactory
from workbench.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_dev_environment_holds_what_make_run_promises(settings):
    settings.DEBUG = True  # make run serves with DJANGO_DEBUG=1: dev's demo logins load without a flag
    call_command("load_environment", "dev", stdout=io.StringIO())

    assert set(Firearm.objects.values_list("firearm_id", flat=True)) >= {
        "firearm.external_write", "firearm.data_export", "firearm.send_message",
        "firearm.destructive_op", "firearm.money_movement",
    }
    assert set(RoutingConfig.objects.values_list("resource_kind", flat=True)) == {
        "component_registry", "firearms_policy_store", "strategy_lock", "kpi_store",
        "budget_usage_store", "routing_config", "workbench_drafts",
    }
    assert {"/chat/*", "/video/*", "/search/*"} <= set(EngineRoute.objects.values_list("pattern", flat=True))
    assert Tenant.objects.filter(slug="acme").exists()
    assert KpiCorridor.objects.count() == KpiDefinition.objects.count() > 0
    # Example connectors arrive through the real publish path: each version came from a draft.
    assert set(Connector.objects.values_list("connector_id", flat=True)) == {"github", "slack", "stripe"}
    assert all(spec.metadata.get("draft_id") for spec in ComponentSpec.objects.filter(kind="component"))
    assert ToolDefinition.objects.filter(name="leads.create").exists()
    assert get_user_model().objects.filter(username__in=["demo-editor", "demo-viewer"]).count() == 2


def _run_local_staff(settings, **options):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("create_local_staff", stdout=out, **options)
    text = out.getvalue()
    return text, re.search(r"password: (\S+)", text).group(1)


def test_create_local_staff_prints_a_login_that_works(settings):
    text, password = _run_local_staff(settings, url="http://127.0.0.1:8123/admin/")

    user = get_user_model().objects.get(username="admin")
    assert user.is_staff and user.is_superuser and user.is_active
    assert user.check_password(password)
    assert "http://127.0.0.1:8123/admin/" in text and "username: admin" in text


def test_create_local_staff_again_resets_the_password_of_the_same_user(settings):
    UserFactory(username="admin", is_staff=False, is_active=False)
    _, first = _run_local_staff(settings)
    _, second = _run_local_staff(settings)

    user = get_user_model().objects.get(username="admin")
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert first != second
    assert user.check_password(second) and not user.check_password(first)
    assert user.is_staff and user.is_active


@pytest.mark.parametrize("tenant_exists", [True, False])
def test_create_local_staff_joins_tenant_acme_once_when_it_exists(settings, tenant_exists):
    if tenant_exists:
        TenantFactory(slug="acme")
    _run_local_staff(settings)
    _run_local_staff(settings)

    memberships = Membership.objects.filter(user__username="admin")
    assert memberships.count() == (1 if tenant_exists else 0)
    if tenant_exists:
        assert memberships.get().tenant.slug == "acme"


def test_create_local_staff_refuses_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("create_local_staff", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()


def test_bench_runner_discovers_the_bench_modules():
    from tests.bench.__main__ import discover

    assert "tests.bench.bench_api_list" in [module.__name__ for module in discover()]
