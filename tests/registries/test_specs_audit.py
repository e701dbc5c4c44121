"""A spec's deprecation and a connector's transfer are platform staff's writes: each leaves one
platform_write security event in its own transaction, and a refused one leaves none."""

import pytest

from registries.services import component_spec_deprecate, connector_transfer
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import TenantFactory, platform_staff
from workbench.kit.refusals import Refusal
from workbench.models import SecurityEvent
from workbench.services.audit import Kind

pytestmark = pytest.mark.django_db


def platform_writes():
    return list(SecurityEvent.objects.filter(kind=Kind.PLATFORM_WRITE).order_by("id"))


def test_a_deprecation_is_a_platform_write():
    staff = platform_staff(["registries.change_componentspec"], username="spec-keeper")
    spec = ConnectorSpecFactory(spec_id="github", version="1.0.0")
    component_spec_deprecate(spec=spec, message="Use 2.0.0", user=staff)
    (event,) = platform_writes()
    assert (event.actor_username, event.tenant, event.subject) == (
        "spec-keeper", None, f"registries.componentspec {spec}",
    )
    assert event.detail == {"action": "change", "pk": str(spec.pk), "deprecated": True, "reason": "Use 2.0.0"}


def test_a_transfer_is_a_platform_write_although_connectors_are_live_rows():
    staff = platform_staff(["registries.change_connector"], username="spec-keeper")
    connector = ConnectorFactory(connector_id="github", owner=TenantFactory(slug="alpha"))
    connector_transfer(connector=connector, tenant=TenantFactory(slug="beta"), user=staff, reason="lend")
    (event,) = platform_writes()
    assert (event.actor_username, event.tenant, event.subject) == (
        "spec-keeper", None, f"registries.connector {connector}",
    )
    assert event.detail == {"action": "change", "pk": str(connector.pk), "owner": ["alpha", "beta"],
                            "reason": "lend"}


def test_refused_writes_leave_no_event():
    staff = platform_staff(["registries.change_componentspec", "registries.change_connector"])
    connector = ConnectorFactory(connector_id="github", owner=TenantFactory(slug="alpha"))
    with pytest.raises(Refusal) as refused:
        connector_transfer(connector=connector, tenant=connector.owner, user=staff, reason="again")
    assert refused.value.code == "no_change"
    with pytest.raises(Refusal):
        component_spec_deprecate(spec=connector.latest_spec, message="x" * 10_000, user=staff)
    assert not platform_writes()
