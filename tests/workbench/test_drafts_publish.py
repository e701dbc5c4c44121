import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import FirearmBinding, KpiToolBinding
from registries.models import ComponentSpec, Connector, Scope, Skill
from tests.policies.factories import (
    FirearmBindingFactory,
    FirearmFactory,
    KpiDefinitionFactory,
    KpiToolBindingFactory,
)
from tests.registries.factories import ConnectorFactory, ConnectorSpecFactory
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
)
from tests.workbench.publish_kit import publisher, ready_draft
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.services.drafts import (
    draft_publish,
    draft_published,
    draft_update,
    draft_validate,
)
from workbench.services.drafts import publish as publish_module

pytestmark = pytest.mark.django_db

PUBLISH_STEPS = [
    "_write_spec",
    "_write_connector",
    "_write_scopes",
    "_write_firearm_bindings",
    "_write_kpi_bindings",
    "_write_skills",
    "_mark_published",
]


def test_publish_writes_every_registry_and_marks_the_draft():
    KpiDefinitionFactory(kpi_id="kpi.change_failure_rate")
    skill = {"spec_id": "github.getting-started", "name": "Getting started", "markdown": "# Use it"}
    draft = ready_draft(
        kpis={"admin_write": ["kpi.change_failure_rate"]},
        skills=[skill],
        portability={"entitlements": ["pro"]},
    )
    draft_publish(draft_id=draft.pk, user=draft.owner)

    spec = ComponentSpec.objects.get(spec_id="github", version="1.2.0")
    assert spec.kind == "component" and spec.is_mcp_connector and spec.schema == draft.spec_snapshot
    assert spec.metadata["packaging"]["identifier"] == "@acme/github-mcp"
    assert spec.required_entitlements == ["pro"] and spec.published_by == draft.owner
    connector = Connector.objects.get(connector_id="github")
    assert connector.latest_spec == spec and connector.name == "Github"
    assert {(s.name, tuple(s.tools)) for s in Scope.objects.filter(spec=spec)} == {
        ("admin_write", ("delete_file",)),
        ("read_public", ("get_file_contents",)),
    }
    assert list(FirearmBinding.objects.values_list("action_name", "firearm__firearm_id")) == [
        ("github:admin_write", "firearm.external_write")
    ]
    assert FirearmBinding.history.get().history_user == draft.owner
    assert list(KpiToolBinding.objects.values_list("action_name", "kpi__kpi_id")) == [
        ("github:admin_write", "kpi.change_failure_rate")
    ]
    assert Skill.objects.get(spec_id="github.getting-started").version == "1.2.0"
    draft.refresh_from_db()
    assert (draft.status, draft.published_version, draft.published_by, draft.published_spec) == (
        "published",
        "1.2.0",
        draft.owner,
        spec,
    )
    assert draft.published_at is not None
    assert draft.history.first().history_change_reason == "published version 1.2.0"


def test_republish_moves_latest_and_syncs_bindings():
    FirearmFactory(firearm_id="firearm.read")
    KpiDefinitionFactory(kpi_id="kpi.a")
    KpiDefinitionFactory(kpi_id="kpi.b")
    first = ready_draft(
        firearms={"admin_write": "firearm.external_write", "read_public": "firearm.read"},
        kpis={"admin_write": ["kpi.a"]},
    )
    draft_publish(draft_id=first.pk, user=first.owner)
    second = ready_draft(
        version="1.3.0",
        firearms={"admin_write": "firearm.read", "read_public": None},
        kpis={"admin_write": ["kpi.b"]},
        owner=first.owner,
        tenant=first.tenant,
    )
    draft_publish(draft_id=second.pk, user=second.owner)
    connector = Connector.objects.get()
    assert connector.latest_spec.version == "1.3.0"
    assert connector.owner == first.tenant  # the tenant whose draft first published it
    assert list(FirearmBinding.objects.values_list("action_name", "firearm__firearm_id")) == [
        ("github:admin_write", "firearm.read")
    ]
    assert list(KpiToolBinding.objects.values_list("kpi__kpi_id", flat=True)) == ["kpi.b"]
    assert Scope.objects.count() == 4  # both versions keep their scopes


def test_refusals_before_anything_is_written(settings):
    draft = ready_draft()
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=MembershipFactory(tenant=draft.tenant).user)
    assert (err.value.status, err.value.code) == (403, "permission_denied")
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=publisher())
    assert err.value.status == 404
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=1, changes={"stage": "policy"})
    draft_validate(draft_id=draft.pk, user=draft.owner)
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert (err.value.status, err.value.code, err.value.extra["stage"]) == (409, "wrong_stage", "policy")
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"stage": "verification"})
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert err.value.code == "validation_required"
    draft_update(
        draft_id=draft.pk,
        user=draft.owner,
        base_revision=3,
        changes={"policy_snapshot": {"firearms": {}, "kpis": {}}},
    )
    draft_validate(draft_id=draft.pk, user=draft.owner)
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert err.value.code == "validation_failed"
    assert ComponentSpec.objects.count() == 0


def test_review_rule_keeps_authors_from_publishing_their_own_revision(settings):
    settings.WORKBENCH_REQUIRE_REVIEW = True
    draft = ready_draft()
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert (err.value.status, err.value.code) == (403, "review_required")
    # Whoever saved a policy change is an author too, although the owner wrote the latest revision.
    co_author = MembershipFactory(tenant=draft.tenant, user=publisher()).user
    policy = {**draft.policy_snapshot, "firearms": {**draft.policy_snapshot["firearms"], "read_public": None}}
    policy["firearms"]["admin_write"] = None
    draft_update(draft_id=draft.pk, user=co_author, base_revision=1, changes={"policy_snapshot": policy})
    policy["firearms"]["admin_write"] = "firearm.external_write"
    draft_update(draft_id=draft.pk, user=draft.owner, base_revision=2, changes={"policy_snapshot": policy})
    draft_validate(draft_id=draft.pk, user=draft.owner, expected_revision=3)
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=co_author)
    assert err.value.code == "review_required"
    assert sorted(err.value.extra["authors"]) == sorted([draft.owner.username, co_author.username])
    # A save that changes nothing is no revision and makes nobody an author.
    reviewer = MembershipFactory(tenant=draft.tenant, user=publisher()).user
    draft_update(draft_id=draft.pk, user=reviewer, base_revision=3, changes={"policy_snapshot": policy})
    draft.refresh_from_db()
    assert draft.revision == 3 and reviewer not in draft.authors.all()
    assert draft_publish(draft_id=draft.pk, user=reviewer, expected_revision=3).status == "published"


def test_a_live_connector_is_published_only_by_its_owning_tenant():
    draft = ready_draft()
    # Another tenant published the connector since the draft was opened: checked again at publish.
    ConnectorFactory(
        connector_id="github", latest_spec=ConnectorSpecFactory(spec_id="github", version="1.0.0")
    )
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert (err.value.status, err.value.code) == (403, "not_connector_owner")
    assert Connector.objects.get().latest_spec.version == "1.0.0"
    assert not ComponentSpec.objects.filter(version="1.2.0").exists()


def test_publishing_twice_is_a_conflict():
    draft = ready_draft()
    draft_publish(draft_id=draft.pk, user=draft.owner)
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert err.value.status == 409 and err.value.code == "already_published"


def test_a_version_published_since_validation_is_a_conflict():
    draft = ready_draft()
    ConnectorFactory(
        connector_id="github",
        latest_spec=ConnectorSpecFactory(spec_id="github", version="1.2.0"),
        owner=draft.tenant,
    )
    with pytest.raises(Refusal) as err:
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert err.value.code == "version_conflict"


def registry_state():
    return {
        "specs": list(ComponentSpec.objects.order_by("pk").values()),
        "connectors": list(
            Connector.objects.order_by("pk").values("connector_id", "name", "latest_spec_id", "owner_id")
        ),
        "connector_history": Connector.history.count(),
        "scopes": list(Scope.objects.order_by("pk").values()),
        "firearm_bindings": list(
            FirearmBinding.objects.order_by("pk").values("action_name", "firearm_id", "note")
        ),
        "firearm_history": FirearmBinding.history.count(),
        "kpi_bindings": list(KpiToolBinding.objects.order_by("pk").values("action_name", "kpi_id")),
        "kpi_history": KpiToolBinding.history.count(),
        "drafts": list(WorkbenchDraft.objects.order_by("pk").values()),
        "draft_history": WorkbenchDraft.history.count(),
    }


@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_a_failure_at_any_write_step_leaves_every_registry_and_the_draft_unchanged(step, monkeypatch):
    FirearmFactory(firearm_id="firearm.read")
    KpiDefinitionFactory(kpi_id="kpi.a")
    KpiDefinitionFactory(kpi_id="kpi.b")
    tenant = TenantFactory()
    ConnectorFactory(
        connector_id="github",
        latest_spec=ConnectorSpecFactory(spec_id="github", version="1.0.0"),
        owner=tenant,
    )
    FirearmBindingFactory(action_name="github:read_public", firearm=FirearmFactory(firearm_id="firearm.read"))
    KpiToolBindingFactory(action_name="github:admin_write", kpi=KpiDefinitionFactory(kpi_id="kpi.a"))
    skill = {"spec_id": "github.intro", "name": "Intro", "markdown": "# Intro"}
    draft = ready_draft(kpis={"admin_write": ["kpi.b"]}, skills=[skill], tenant=tenant)
    before = registry_state()
    original = getattr(publish_module, step)

    def write_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError(f"injected failure after {step}")

    monkeypatch.setattr(publish_module, step, write_then_fail)
    with pytest.raises(RuntimeError, match="injected"):
        draft_publish(draft_id=draft.pk, user=draft.owner)
    assert registry_state() == before


def test_side_effects_run_only_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    received = []
    draft_published.connect(lambda **kw: received.append(kw["spec"].version), weak=False, dispatch_uid="t1")
    try:
        draft = ready_draft()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            draft_publish(draft_id=draft.pk, user=draft.owner)
        assert received == [] and len(callbacks) == 1
        callbacks[0]()
        assert received == ["1.2.0"]

        failing = ready_draft(connector_id="other")
        monkeypatch.setattr(publish_module, "_mark_published", lambda *a, **k: 1 / 0)
        with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ZeroDivisionError):
            draft_publish(draft_id=failing.pk, user=failing.owner)
        assert callbacks == [] and received == ["1.2.0"]
    finally:
        draft_published.disconnect(dispatch_uid="t1")


def wide_draft(connector_id, scopes, owner):
    FirearmFactory(firearm_id="firearm.external_write")
    KpiDefinitionFactory(kpi_id="kpi.a")
    tools = [draft_tool(f"tool_{i}") for i in range(scopes * 3)]
    spec = draft_spec(
        connector_id,
        tools=tools,
        scopes=[
            {"name": f"scope_{i}", "tools": [f"tool_{j}" for j in range(i, scopes * 3, scopes)]}
            for i in range(scopes)
        ],
    )
    draft = WorkbenchDraftFactory(
        connector_id=connector_id,
        owner=owner,
        spec_snapshot=spec,
        policy_snapshot={
            "firearms": {f"scope_{i}": "firearm.external_write" for i in range(scopes)},
            "kpis": {f"scope_{i}": ["kpi.a"] for i in range(scopes)},
        },
    )
    draft_validate(draft_id=draft.pk, user=owner)
    return draft


def test_publish_query_count_does_not_grow_with_the_number_of_scopes():
    owner = publisher()
    counts = []
    for connector_id, scopes in (("narrow", 2), ("wide", 40)):
        draft = wide_draft(connector_id, scopes, owner)
        fresh_user = type(owner).objects.get(pk=owner.pk)  # same permission-cache state for both runs
        with CaptureQueriesContext(connection) as queries:
            draft_publish(draft_id=draft.pk, user=fresh_user)
        counts.append(len(queries))
    assert counts[0] == counts[1] == 29, counts  # the permissions in one query (workbench.kit.auth)
    assert Scope.objects.filter(connector__connector_id="wide").count() == 40
    assert FirearmBinding.objects.filter(action_name__startswith="wide:").count() == 40
