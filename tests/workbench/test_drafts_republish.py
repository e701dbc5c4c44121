"""Republishing a connector: bindings of the scopes a new version drops go with them, with a history row
each, in a number of queries that grows with neither the scopes dropped nor the bindings removed."""

import pytest
from django.db import connection, transaction
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
from workbench.kit.rows import mark_history
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


def republish_statements(second, owner):
    """(statements other than INSERT, INSERT statements) of publishing `second`, which must succeed."""
    fresh_user = type(owner).objects.get(pk=owner.pk)  # the same permission-cache state for every run
    with CaptureQueriesContext(connection) as queries:
        draft_publish(draft_id=second.pk, user=fresh_user)
    inserts = sum(query["sql"].startswith("INSERT") for query in queries.captured_queries)
    return len(queries) - inserts, inserts


def test_republish_query_count_does_not_grow_with_dropped_scopes_or_removed_bindings():
    owner = publisher()
    counts = {}
    for connector_id, dropped, bound in (("none", 10, 0), ("ten", 10, 10), ("hundred", 100, 100)):
        second = republish_dropping(connector_id, owner, kept=2, dropped=dropped, bound=bound)
        counts[connector_id] = republish_statements(second, owner)
        assert not FirearmBinding.objects.filter(action_name__startswith=f"{connector_id}:").exists()
        assert not KpiToolBinding.objects.filter(action_name__startswith=f"{connector_id}:").exists()
        for model in (FirearmBinding, KpiToolBinding):
            removed = model.history.filter(action_name__startswith=f"{connector_id}:", history_type="-")
            assert removed.count() == bound
    # Removing bindings is one batch of history rows and one DELETE per binding model, whatever their
    # number: 100 dropped scopes' 200 bindings cost what 10 scopes' 20 do.
    assert counts["ten"][0] == counts["hundred"][0] == counts["none"][0] + 2, counts
    # SQLite takes at most 999 variables a statement: 100 KPI history rows (10 columns) are two INSERTs.
    split = 1 if connection.vendor == "sqlite" else 0
    assert counts["ten"][1] == counts["none"][1] + 2, counts
    assert counts["hundred"][1] == counts["ten"][1] + split, counts
    assert sum(counts["ten"]) == 28, counts


def test_removed_bindings_leave_the_history_rows_the_delete_signal_would():
    """The removal writes its history rows in bulk; they are exactly what simple-history's delete signal
    writes for a binding deleted one by one (with publish's user and reason), the id and date apart."""
    owner = publisher()
    second = republish_dropping("conn", owner, kept=2, dropped=3, bound=3)
    # An explicit NONE decision on a kept scope removes its binding too, with its own reason.
    kept = FirearmBindingFactory(
        action_name="conn:kept_0", firearm=Firearm.objects.get(firearm_id="firearm.external_write")
    )
    removed = [kept, *FirearmBinding.objects.filter(action_name__startswith="conn:gone_")]
    removed_kpis = list(KpiToolBinding.objects.filter(action_name__startswith="conn:"))
    reason = f"published conn 1.1.0 from {second.pk}"

    def history_rows(model):
        return sorted(
            model.history.filter(action_name__startswith="conn:", history_type="-")
            .exclude(history_id__in=before[model])
            .values(),
            key=lambda row: row["id"],
        )

    def one_by_one():
        # The reference: what the signal writes for each binding deleted on its own.
        for binding, why in [(kept, f"NONE decided: {reason}")] + [
            (binding, f"scope dropped: {reason}") for binding in removed[1:]
        ]:
            mark_history(binding, user=owner, reason=why)
            binding.delete()
        for binding in removed_kpis:
            mark_history(binding, user=owner, reason=f"KPI removed: {reason}")
            binding.delete()

    before = {
        model: list(model.history.values_list("history_id", flat=True))
        for model in (FirearmBinding, KpiToolBinding)
    }
    with transaction.atomic():
        one_by_one()
        expected = {model: history_rows(model) for model in before}
        transaction.set_rollback(True)
    draft_publish(draft_id=second.pk, user=owner)
    for model, rows in expected.items():
        written = history_rows(model)
        assert len(written) == len(rows) == (4 if model is FirearmBinding else 3)
        for row in rows + written:
            row.pop("history_id"), row.pop("history_date")
        assert written == rows
    assert written[0]["history_user_id"] == owner.pk and written[0]["history_change_reason"] == (
        f"KPI removed: {reason}"
    )


def test_nothing_points_at_a_binding():
    # Removed bindings are deleted with one direct DELETE that follows no relation: a model pointing at
    # a binding would need its own handling there (workbench/services/drafts/bindings.py).
    assert FirearmBinding._meta.related_objects == KpiToolBinding._meta.related_objects == ()
