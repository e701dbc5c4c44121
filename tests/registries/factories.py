import factory

from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, EngineRoute, RoutingConfig, Scope, Skill


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
            "packaging": {"registry_type": "npm", "identifier": f"@acme/{s.spec_id}-mcp", "version": s.version,
                          "bin": f"{s.spec_id}-mcp", "transport": "stdio"},
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
