"""Data the TSV exchange tests share: a small registry whose three exports are the golden files in
tests/workbench/expected/, and helpers to publish connectors and read downloads."""

from datetime import UTC, datetime
from pathlib import Path

from policies.models import FirearmBinding
from registries.models import MCP_CONNECTOR_CLASS, Connector, EngineRoute, Scope
from tests.policies.factories import FirearmFactory, StrategyLockFactory
from tests.registries.factories import ConnectorSpecFactory
from tests.workbench.factories import (
    MembershipFactory,
    TenantFactory,
    UserFactory,
    WorkbenchDraftFactory,
    draft_spec,
    draft_tool,
    platform_staff,
)
from workbench.models import Membership

EXPECTED = Path(__file__).parent / "expected"
PUBLISHED_AT = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


IMPORTER_PERMS = [
    "policies.view_firearm", "policies.add_firearm", "policies.change_firearm", "policies.add_firearmgrant",
    "policies.view_firearmgrant", "policies.add_kpicorridor", "policies.change_kpicorridor",
    "policies.view_kpicorridor",
]
GRANT_HEADER = ["uid", "firearm_id", "tenant", "principal_type", "principal", "reason", "expires_at"]
GRANT_PERMS = ["policies.add_firearmgrant", "policies.view_firearmgrant"]
CORRIDOR_HEADER = ["kpi_id", "critical_lower", "lower", "upper", "critical_upper", "note"]


def table(*rows):
    """TSV text of rows of cells."""
    return "".join("\t".join(row) + "\n" for row in rows)


FIREARMS = table(
    ["firearm_id", "name", "severity"],
    ["firearm.external_write", "External write", "critical"],
    ["firearm.data_export", "Data export", "high"],
    ["firearm.send_message", "Send message", "medium"],
)


def make_importer(**extra):
    """A user allowed to import firearms, grants and KPI corridors: firearms and corridors are platform
    rows, so platform staff (an editor of the platform tenant), who give grants in every tenant too."""
    return platform_staff(IMPORTER_PERMS, username="importer", **extra)


def tenant_owner(tenant, username="owner", perms=GRANT_PERMS, **extra):
    """An owner of `tenant` (not platform staff) holding `perms` (the grant import's, unless told)."""
    user = UserFactory(username=username, perms=list(perms), **extra)
    MembershipFactory(tenant=tenant, user=user, role=Membership.Role.OWNER)
    return user


def member(tenant, username, role=Membership.Role.VIEWER):
    """A user who is a member of `tenant` (a user grant goes to a member of the grant's tenant)."""
    user = UserFactory(username=username)
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


#: the tenant that owns the connectors published here unless told (connectors name an owning tenant)
PUBLISHER = "publisher"


def publisher():
    return TenantFactory(slug=PUBLISHER)


def connector_row(connector_id, name=None, *, owner=None, **extra):
    """A connector row without a published version, owned by `owner` (the publisher tenant unless told)."""
    return Connector.objects.create(
        connector_id=connector_id, name=name or connector_id.title(), owner=owner or publisher(), **extra
    )


def expected(kind):
    return (EXPECTED / f"{kind}.tsv").read_bytes()


def body(response):
    """All bytes of a (streaming or plain) response."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def publish_version(
    connector_id, version, scopes, *, at=PUBLISHED_AT, via_draft=True, entitlements=None, bindings=None,
    owner=None, portability=None,
):
    """A published connector version written directly (fixed time), with its scopes and firearm bindings.

    `via_draft` marks it as published from a workbench draft (metadata draft_id), as publish does. A new
    connector is owned by `owner` (the publisher tenant unless told).
    """
    tools = [draft_tool(f"{scope}_tool") for scope in scopes]
    spec_scopes = [{"name": scope, "description": "", "tools": [f"{scope}_tool"]} for scope in scopes]
    metadata = {"spec_class": MCP_CONNECTOR_CLASS, "packaging": {}, "portability": portability or {}}
    if via_draft:
        metadata.update(draft_id="draft_00000000", draft_revision=1)
    if entitlements:
        metadata["entitlements"] = list(entitlements)
    spec = ConnectorSpecFactory(
        spec_id=connector_id,
        version=version,
        name=connector_id.title(),
        published_at=at,
        metadata=metadata,
        schema=draft_spec(connector_id, version, tools=tools, scopes=spec_scopes),
    )
    connector = Connector.objects.filter(connector_id=connector_id).first()
    if connector is None:
        connector = connector_row(connector_id, spec.name, owner=owner, latest_spec=spec)
    else:
        connector.latest_spec = spec
        connector.save()
    for scope in scopes:
        Scope.objects.create(spec=spec, connector=connector, name=scope, tools=[f"{scope}_tool"])
    for scope, firearm_id in (bindings or {}).items():
        FirearmBinding.objects.update_or_create(
            action_name=f"{connector_id}:{scope}", defaults={"firearm": FirearmFactory(firearm_id=firearm_id)}
        )
    return connector


def golden_registry():
    """The registry behind tests/workbench/expected/*.tsv (see the comments for what each row shows)."""
    FirearmFactory(firearm_id="firearm.external_write")
    FirearmFactory(firearm_id="firearm.data_export")
    FirearmFactory(firearm_id="firearm.money_movement")
    # An older github version: only the latest version is exported.
    publish_version("github", "1.1.0", ["read_public"], at=datetime(2025, 12, 1, 9, 30, tzinfo=UTC))
    github = publish_version(
        "github", "1.2.0", ["admin_write", "read_public"], bindings={"admin_write": "firearm.external_write"}
    )
    # Loaded without a draft, one scope unbound: undecided (coverage PARTIAL 50%).
    slack = publish_version(
        "slack",
        "2.0.0",
        ["post_message", "read_channels"],
        via_draft=False,
        at=datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        bindings={"post_message": "firearm.data_export"},
    )
    # Declares a billing entitlement nothing serves: PARTIAL at 100% (a missing dependency, not a column).
    stripe = publish_version(
        "stripe",
        "1.0.0",
        ["charge", "refund", "read_balance"],
        entitlements=["billing.seats"],
        bindings={"charge": "firearm.money_movement", "refund": "firearm.money_movement"},
    )
    # No scope bound (firearms_required FALSE); "git-lab" sorts before "github" byte by byte.
    publish_version("git-lab", "0.3.1", ["read_repo"], at=datetime(2026, 3, 1, 0, 0, 5, tzinfo=UTC))
    # A connector row without a published version, with an open draft deciding 2 of 3 scopes.
    video_draft = WorkbenchDraftFactory(
        connector_id="video-gen",
        spec_snapshot=draft_spec(
            "video-gen",
            "0.1.0",
            tools=[draft_tool("render")],
            scopes=[
                {"name": "render", "tools": ["render"]},
                {"name": "upload", "tools": []},
                {"name": "publish", "tools": []},
            ],
        ),
        policy_snapshot={"firearms": {"render": None, "upload": "firearm.data_export"}, "kpis": {}},
    )
    video = connector_row("video-gen", "Video generator", owner=video_draft.tenant)
    mail = connector_row("mail", "Mail")
    # Lock policies, engaged or not, all count: by action, by connector, by firearm.
    StrategyLockFactory(
        name="no-admin-writes",
        actions=["github:admin_write"],
        engaged=True,
        reason="Incident 42",
        engaged_by=UserFactory(),
    )
    StrategyLockFactory(name="payments-freeze").connectors.add(stripe)
    StrategyLockFactory(name="exports-paused").firearms.add(FirearmFactory(firearm_id="firearm.data_export"))
    for pattern, connector in [
        ("/chat/*", slack),
        ("/search/*", github),
        ("/payments/*", stripe),
        ("/video/*", video),
        ("/mail/*", mail),
        ("/voice/*", None),
    ]:
        EngineRoute.objects.create(pattern=pattern, connector=connector)
    return {"github": github, "slack": slack, "stripe": stripe}


def bound(connector_id, scope):
    binding = FirearmBinding.objects.filter(action_name=f"{connector_id}:{scope}")
    return binding.values_list("firearm__firearm_id", flat=True).first()


#: the billing entitlement acme's draft declares: no one outside acme may read it anywhere
ACME_SECRET = "billing.acme_secret"


def acme_draft_route():
    """The route /zoom/* wrapped only by an open draft of tenant acme that declares ACME_SECRET and decides
    2 of 3 scopes (PARTIAL 66%). Returns (the draft, a member of acme, the owner of another tenant), both
    users holding the coverage permissions."""
    from workbench.selectors.coverage import COVERAGE_PERMISSIONS

    acme = TenantFactory(slug="acme")
    draft = WorkbenchDraftFactory(
        connector_id="zoom",
        tenant=acme,
        spec_snapshot=draft_spec(
            "zoom",
            "0.1.0",
            tools=[draft_tool("meet")],
            scopes=[{"name": name, "tools": []} for name in ("meet", "record", "share")],
            portability={"entitlements": [ACME_SECRET]},
        ),
        policy_snapshot={"firearms": {"meet": None, "record": "firearm.data_export"}, "kpis": {}},
    )
    EngineRoute.objects.create(pattern="/zoom/*", connector=connector_row("zoom", "Zoom", owner=acme))
    insider = tenant_owner(acme, "acme-owner", COVERAGE_PERMISSIONS, is_staff=True)
    outsider = tenant_owner(TenantFactory(slug="other"), "other-owner", COVERAGE_PERMISSIONS, is_staff=True)
    return draft, insider, outsider
