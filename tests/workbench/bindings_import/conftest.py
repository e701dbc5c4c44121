"""Fixtures of the binding imports' tests: tenant acme, an editor of acme who may import, and github and
slack published by that editor with firearms and KPIs."""

import pytest

from tests.policies.factories import FirearmFactory, KpiDefinitionFactory
from tests.workbench.factories import MembershipFactory, TenantFactory, UserFactory
from tests.workbench.policy_matrix.kit import publish
from workbench.models import Membership

from .kit import IMPORT_PERMS


@pytest.fixture
def tenant():
    return TenantFactory(slug="acme")


@pytest.fixture
def editor(tenant):
    user = UserFactory(username="sheets", is_staff=True, perms=IMPORT_PERMS)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.EDITOR)
    return user


@pytest.fixture
def live(editor, tenant):
    """github: admin_write -> firearm.external_write moving kpi.change_failure_rate, read_public -> NONE;
    slack: post_message -> NONE moving kpi.tool_error_rate."""
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.data_export")
    for kpi_id in ("kpi.change_failure_rate", "kpi.tool_error_rate", "kpi.lead_time"):
        KpiDefinitionFactory(kpi_id=kpi_id)
    publish(
        editor, tenant, "github", "1.2.0", {"admin_write": "firearm.external_write", "read_public": None},
        kpis={"admin_write": ["kpi.change_failure_rate"]},
    )
    publish(
        editor, tenant, "slack", "2.0.0", {"post_message": None},
        kpis={"post_message": ["kpi.tool_error_rate"]},
    )
    return editor
