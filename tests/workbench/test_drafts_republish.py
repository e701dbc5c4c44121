"""Republishing a connector: bindings of the scopes a new version drops go with them, and the cost grows
with what is removed only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import Firearm, FirearmBinding, KpiDefinition, KpiToolBinding
from registries.models import Scope
from tests.policies.factories import (
    FirearmBindingFactory,
    FirearmFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
)
from tests.workbench.factories import (
    TenantFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
)
from tests.workbench.publish_kit import publisher, ready_draft
from workbench.services.drafts import (
    draft_publish,
    draft_validate,
)

pytestmark = pytest.mark.django_db


def test_republish_removes_the_bindings_of_scopes_the_new_version_drops():
    FirearmFactory(firearm_id="firearm.read")
    KpiDefinitionFactory(kpi_id="kpi.a")
    scopes = [
        {"name": "admin_write", "tools": ["delete_file"]},
        {"name": "read_public", "tools": ["get_file_contents"]},
        {"name": "legacy", "tools": ["get_file_contents"]},
    ]
    first = ready_draft(
        firearms={"admin_write": "firearm.external_write", "read_public": None, "legacy": "firearm.read"},
        kpis={"legacy": ["kpi.a"], "admin_write": ["kpi.a"]},
        scopes=scopes,
    )
    draft_publish(draft_id=first.pk, user=first.owner)
    # Bindings of other actions stay: another connector's scope of the same name and a registry tool.
    FirearmBindingFactory(action_name="gitlab:legacy", firearm=Firearm.objects.get(firearm_id="firearm.read"))
    KpiToolBindingFactory(action_name="leads.create", kpi=KpiDefinition.objects.get(kpi_id="kpi.a"))
    second = ready_draft(
        version="1.3.0",
        firearms={"admin_write": "firearm.external_write", "read_public": None},
        kpis={"admin_write": ["kpi.a"]},
        owner=first.owner,
        tenant=first.tenant,
        scopes=scopes[:2],
    )
    draft_publish(draft_id=second.pk, user=second.owner)
    assert sorted(FirearmBinding.objects.values_list("action_name", flat=True)) == [
        "github:admin_write",
        "gitlab:legacy",
    ]
    assert sorted(KpiToolBinding.objects.values_list("action_name", flat=True)) == [
        "github:admin_write",
        "leads.create",
    ]
    for model in (FirearmBinding, KpiToolBinding):
        removed = model.history.get(action_name="github:legacy", history_type="-")
        assert removed.history_user == second.owner
        assert "1.3.0" in removed.history_change_reason
        assert model.history.filter(action_name="github:legacy", history_type="+").exists()
    # The dropped scope stays part of the version that had it.
    assert list(Scope.objects.filter(name="legacy").values_list("spec__version", flat=True)) == ["1.2.0"]


def republish_dropping(connector_id, owner, *, kept, dropped, bound):
    """Publish 1.0.0 with kept + dropped scopes (the first `bound` dropped ones with a firearm and a KPI),
    then validate 1.1.0 with the kept scopes only (both drafts in one tenant, which owns the connector);
    returns the second draft, ready to publish."""
    tenant = TenantFactory()
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.a")

    def draft(version, names, firearms, kpis):
        spec = draft_spec(
            connector_id,
            version,
            tools=[draft_tool("tool_0")],
            scopes=[{"name": name, "tools": ["tool_0"]} for name in names],
        )
        made = WorkbenchDraftFactory(
            connector_id=connector_id,
            owner=owner,
            tenant=tenant,
            spec_snapshot=spec,
            policy_snapshot={"firearms": firearms, "kpis": kpis},
        )
        draft_validate(draft_id=made.pk, user=owner)
        return made

    kept_names = [f"kept_{i}" for i in range(kept)]
    dropped_names = [f"gone_{i}" for i in range(dropped)]
    firearms = dict.fromkeys(kept_names + dropped_names)
    firearms.update(dict.fromkeys(dropped_names[:bound], "firearm.external_write"))
    kpis = {name: ["kpi.a"] for name in dropped_names[:bound]}
    draft_publish(draft_id=draft("1.0.0", kept_names + dropped_names, firearms, kpis).pk, user=owner)
    return draft("1.1.0", kept_names, dict.fromkeys(kept_names), {})


def test_republish_query_count_grows_with_removed_bindings_only():
    owner = publisher()
    counts = {}
    for connector_id, dropped, bound in (
        ("few", 1, 0),
        ("many", 30, 0),
        ("one-bound", 30, 1),
        ("two-bound", 30, 2),
    ):
        second = republish_dropping(connector_id, owner, kept=2, dropped=dropped, bound=bound)
        fresh_user = type(owner).objects.get(pk=owner.pk)
        with CaptureQueriesContext(connection) as queries:
            draft_publish(draft_id=second.pk, user=fresh_user)
        counts[connector_id] = len(queries)
        assert not FirearmBinding.objects.filter(action_name__startswith=f"{connector_id}:").exists()
        assert not KpiToolBinding.objects.filter(action_name__startswith=f"{connector_id}:").exists()
    # Dropping scopes costs nothing per scope; each removed binding costs its delete and its history
    # row: a bound dropped scope has a firearm and a KPI binding, so 2 x 2 queries.
    assert counts["few"] == counts["many"], counts
    assert counts["one-bound"] - counts["many"] == 4, counts
    assert counts["two-bound"] - counts["one-bound"] == 4, counts
