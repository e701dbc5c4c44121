from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from registries.models import (
    MCP_CONNECTOR_CLASS,
    ComponentSpec,
    Connector,
    EngineRoute,
    RoutingConfig,
    Scope,
    Skill,
)


class ComponentSpecFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComponentSpec

    spec_id = factory.Sequence(lambda n: f"spec-{n}")
    version = "1.0.0"
    kind = ComponentSpec.Kind.ATOM
    name = factory.LazyAttribute(lambda s: s.spec_id.title())
    schema = factory.LazyFunction(dict)
    metadata = factory.LazyFunction(dict)


class ConnectorSpecFactory(ComponentSpecFactory):
    """A published mcp_connector version; pass spec_id equal to the connector's id."""

    kind = ComponentSpec.Kind.COMPONENT
    metadata = factory.LazyAttribute(
        lambda s: {
            "spec_class": MCP_CONNECTOR_CLASS,
            "packaging": {"registry_type": "npm", "identifier": f"@acme/{s.spec_id}-mcp",
                          "version": s.version, "bin": f"{s.spec_id}-mcp", "transport": "stdio"},
            "portability": {},
        }
    )


class SkillFactory(ComponentSpecFactory):
    class Meta:
        model = Skill

    kind = ComponentSpec.Kind.CURRICULUM
    metadata = factory.LazyFunction(lambda: {"markdown": "# How to use it\n\nStep one."})


class ConnectorFactory(factory.django.DjangoModelFactory):
    """A connector with one published version (latest_spec); scopes come from ScopeFactory."""

    class Meta:
        model = Connector
        django_get_or_create = ("connector_id",)

    connector_id = factory.Sequence(lambda n: f"connector-{n}")
    name = factory.LazyAttribute(lambda c: c.connector_id.title())
    latest_spec = factory.LazyAttribute(
        lambda c: ConnectorSpecFactory(spec_id=c.connector_id, version="1.0.0", name=c.name)
    )
    owner = factory.SubFactory("tests.workbench.factories.TenantFactory")


class ScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scope

    connector = factory.SubFactory(ConnectorFactory)
    spec = factory.LazyAttribute(lambda s: s.connector.latest_spec)
    name = factory.Sequence(lambda n: f"scope_{n}")
    tools = factory.LazyFunction(lambda: ["get_file_contents"])


class RoutingConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingConfig

    resource_kind = factory.Sequence(lambda n: f"resource_{n}")
    backend_type = "TabularStore"


class EngineRouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngineRoute

    pattern = factory.Sequence(lambda n: f"/route-{n}/*")
    connector = factory.SubFactory(ConnectorFactory)


# -- tool registry and gateway ------------------------------------------------------------------

SEED_PERMISSIONS = {
    "read:db": False, "write:db": False, "send:sms": True, "send:email": True,
    "calendar:read": True, "calendar:write": True,
}


def ensure_seed_permissions():
    """The six seeded permissions (transactional tests flush the data migration's rows: re-create them)."""
    from registries.models import ToolPermission

    for name, requires_provider in SEED_PERMISSIONS.items():
        ToolPermission.objects.get_or_create(name=name, defaults={"requires_provider": requires_provider})


class ToolPermissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.ToolPermission"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"use:thing_{n}")
    description = "A made-up permission"


def tool_input_schema(**properties):
    properties = properties or {"title": {"type": "string"}}
    return {"type": "object", "properties": properties, "required": [], "additionalProperties": False}


class ToolDefinitionFactory(factory.django.DjangoModelFactory):
    """A valid tool; ToolDefinitionFactory(name="leads.create", ...) for seed-like tools."""

    class Meta:
        model = "registries.ToolDefinition"
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"probe.tool_{n}")
    description = "A tool made for a test."
    input_schema = factory.LazyFunction(tool_input_schema)
    output_schema = factory.LazyFunction(dict)
    permissions = factory.LazyFunction(lambda: ["read:db"])
    idempotency_mode = "none"
    idempotency_key_field = ""
    timeout_ms = 5000
    receipt_fields = factory.LazyFunction(list)

    @factory.post_generation
    def vocabulary(self, create, extracted, **kwargs):
        if create:
            ensure_seed_permissions()


class ToolReceiptFactory(factory.django.DjangoModelFactory):
    """A finished receipt (no idempotency slot held)."""

    class Meta:
        model = "registries.ToolReceipt"

    tool_name = "os.create_task"
    call_id = factory.Sequence(lambda n: f"call-{n}")
    idempotency_mode = "none"
    input = factory.LazyFunction(lambda: {"title": "Write the report"})
    input_hash = "0" * 64
    result = factory.LazyFunction(lambda: {"task_id": 1})
    status = "succeeded"
    started_at = factory.LazyFunction(timezone.now)
    deadline_at = factory.LazyAttribute(lambda r: r.started_at + timedelta(seconds=30))
    finished_at = factory.LazyAttribute(lambda r: r.started_at + timedelta(milliseconds=12))
    duration_ms = 12


class ToolRegistryImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.ToolRegistryImport"

    version = "1.0.0"
    source = "seeds/tools.registry.json"
    created = factory.LazyFunction(lambda: ["leads.create"])


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.Lead"

    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    name = "Ann Lee"


class MediaAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.MediaAsset"

    file_ref = factory.Sequence(lambda n: f"s3://media/file-{n}.png")
    media_type = "image/png"


class MemoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.Memory"

    key = factory.Sequence(lambda n: f"memory-{n}")
    content = "Prefers mornings."


class PatternScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.PatternScore"

    key = factory.Sequence(lambda n: f"pattern-{n}")
    pattern = "late-replies"
    score = Decimal("0.5")


class BoundaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.Boundary"

    key = factory.Sequence(lambda n: f"boundary-{n}")
    value = "No calls after 8pm"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "registries.Task"

    title = factory.Sequence(lambda n: f"Task {n}")


# -- MCP registry (server.json, /v0) -----------------------------------------------------------------


def contract_schema(connector_id, version="1.0.0", *, scopes=("read",), **extra):
    """A published spec's schema: the MCP contract as a draft publishes it (tools, scopes, packaging)."""
    tools = [
        {"name": f"{scope}_tool", "inputSchema": {"type": "object", "properties": {}}} for scope in scopes
    ]
    return {
        "id": connector_id, "name": connector_id.title(), "version": version,
        "description": f"{connector_id.title()} MCP server.", "tools": tools,
        "scopes": [{"name": scope, "tools": [f"{scope}_tool"]} for scope in scopes],
        "packaging": {"registry_type": "npm", "identifier": f"@acme/{connector_id}-mcp", "version": version,
                      "transport": "stdio"},
        **extra,
    }


class ServerSpecFactory(ConnectorSpecFactory):
    """A published connector version whose schema is a full MCP contract (what server.json is made of)."""

    schema = factory.LazyAttribute(lambda s: contract_schema(s.spec_id, s.version))
    metadata = factory.LazyAttribute(
        lambda s: {"spec_class": MCP_CONNECTOR_CLASS, "packaging": s.schema.get("packaging") or {},
                   "draft_id": f"draft_{s.spec_id}", "draft_revision": 3}
    )


def published_connector(connector_id, versions=("1.0.0",), *, scopes=("read",), owner=None, **schema_extra):
    """A connector with its versions published in order (the last one latest), each with its scopes."""
    specs = [
        ServerSpecFactory(
            spec_id=connector_id, version=version,
            schema=contract_schema(connector_id, version, scopes=scopes, **schema_extra),
        )
        for version in versions
    ]
    connector = ConnectorFactory(
        connector_id=connector_id, latest_spec=specs[-1], **({"owner": owner} if owner else {})
    )
    for spec in specs:
        for scope in scopes:
            ScopeFactory(connector=connector, spec=spec, name=scope, tools=[f"{scope}_tool"])
    return connector
