"""The tenancy migrations, forward, on a database holding what the dev environment left before them:
grants, connectors and drafts get their tenant, owner and authors from what they reference; the rest go
to the platform tenant."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("policies", "0001_initial"),
    ("registries", "0006_domain_rows_per_tenant"),
    ("workbench", "0003_tsv_exchange_page"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _dev_before_tenancy(apps):
    """Rows as the dev environment (seeds + fixtures/dev) and a little use left them."""
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    Tenant = apps.get_model("workbench", "Tenant")
    Membership = apps.get_model("workbench", "Membership")
    Draft = apps.get_model("workbench", "WorkbenchDraft")
    DraftHistory = apps.get_model("workbench", "HistoricalWorkbenchDraft")
    Connector = apps.get_model("registries", "Connector")
    Firearm = apps.get_model("policies", "Firearm")
    Grant = apps.get_model("policies", "FirearmGrant")

    platform = Tenant.objects.create(slug="workbench", name="Workbench (seeded connectors)")
    acme = Tenant.objects.create(slug="acme", name="Acme")
    beta = Tenant.objects.create(slug="beta", name="Beta")
    users = {
        name: User.objects.create(username=name)
        for name in (
            "workbench-seeds",
            "demo-editor",
            "demo-viewer",
            "multi",
            "alice",
            "bob",
            "carol",
            "dave",
        )
    }
    Membership.objects.create(tenant=platform, user=users["workbench-seeds"], role="owner")
    Membership.objects.create(tenant=acme, user=users["demo-editor"], role="owner")
    Membership.objects.create(tenant=acme, user=users["demo-viewer"], role="viewer")
    Membership.objects.create(tenant=acme, user=users["multi"], role="editor")
    Membership.objects.create(tenant=beta, user=users["multi"], role="editor")
    managers = Group.objects.create(name="release-managers")

    now = timezone.now()
    Connector.objects.create(connector_id="github", name="GitHub")
    Connector.objects.create(connector_id="notes", name="Notes")
    Connector.objects.create(connector_id="orphan", name="Orphan")
    published = [
        (platform, "github", now),
        (acme, "notes", now),
        (beta, "notes", now + timezone.timedelta(days=1)),
    ]
    for index, (tenant, connector_id, published_at) in enumerate(published):
        Draft.objects.create(
            id=f"draft_{index:08x}",
            tenant=tenant,
            owner=users["workbench-seeds"],
            connector_id=connector_id,
            status="published",
            published_at=published_at,
            revision=1,
        )

    external = Firearm.objects.create(firearm_id="firearm.external_write", name="External write")
    grants = {
        "demo-editor": dict(principal_type="user", user=users["demo-editor"]),
        "multi": dict(principal_type="user", user=users["multi"]),
        "managers": dict(principal_type="group", group=managers),
        "acme": dict(principal_type="tenant", tenant=acme),
    }
    for reason, principal in grants.items():
        Grant.objects.create(firearm=external, reason=reason, **principal)

    # A draft saved by alice (content), validated by bob (no content change), edited by carol (content)
    # and moved on by dave (stage only): alice and carol are its authors.
    draft = Draft.objects.create(
        id="draft_a0b1c2d3",
        tenant=acme,
        owner=users["alice"],
        connector_id="notes",
        revision=3,
        spec_snapshot={"v": 2},
    )
    steps = [
        ("alice", {"v": 1}, "definition"),
        ("bob", {"v": 1}, "definition"),
        ("carol", {"v": 2}, "definition"),
        ("dave", {"v": 2}, "policy"),
    ]
    for index, (name, spec, stage) in enumerate(steps):
        DraftHistory.objects.create(
            id=draft.pk,
            tenant_id=acme.pk,
            owner_id=users["alice"].pk,
            connector_id="notes",
            stage=stage,
            status="draft",
            spec_snapshot=spec,
            policy_snapshot={},
            revision=1,
            validation_findings=[],
            created_at=now,
            history_date=now + timezone.timedelta(seconds=index),
            history_type="~",
            history_user_id=users[name].pk,
        )


@pytest.mark.django_db(transaction=True)
def test_tenancy_migrations_give_every_grant_a_tenant_every_connector_an_owner_and_drafts_authors():
    latest = _latest()
    try:
        _dev_before_tenancy(_migrate(BEFORE))
        apps = _migrate(latest)
    finally:
        _migrate(latest)
    Grant = apps.get_model("policies", "FirearmGrant")
    Connector = apps.get_model("registries", "Connector")
    Draft = apps.get_model("workbench", "WorkbenchDraft")

    tenants = dict(Grant.objects.values_list("reason", "tenant__slug"))
    assert tenants == {"demo-editor": "acme", "multi": "workbench", "managers": "workbench", "acme": "acme"}
    assert not Grant.objects.filter(needs_approval=True).exists()  # given before: counted as they were
    owners = dict(Connector.objects.values_list("connector_id", "owner__slug"))
    # notes: the tenant whose draft published it first; orphan (no draft): the platform.
    assert owners == {"github": "workbench", "notes": "acme", "orphan": "workbench"}
    authors = Draft.objects.get(pk="draft_a0b1c2d3").authors.values_list("username", flat=True)
    assert sorted(authors) == ["alice", "carol"]
