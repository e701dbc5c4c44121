"""Published connectors in bulk for the benches that read the registry (`bench_api_list`,
`bench_registry_v0`), and the GET they time. Not a bench module (its name has no `bench_`)."""

SCOPES_PER_CONNECTOR = 3
TOOLS_PER_SPEC = 12


def bench_tools(index):
    """TOOLS_PER_SPEC MCP tools of ordinary size for connector `index`."""
    return [
        {
            "name": f"tool_{index}_{number}",
            "description": "A tool made up for the benchmark, with a description of ordinary length.",
            "inputSchema": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
                "required": ["query"],
            },
            "annotations": {"readOnlyHint": number % 2 == 0},
        }
        for number in range(TOOLS_PER_SPEC)
    ]


def publish_connectors(rows, *, schema, metadata=lambda index, schema: {}, description=""):
    """`rows` connectors `bench-<index>`, each published as version 1.0.0 with `schema(index)` and
    `metadata(index, schema)` (besides its spec class) and SCOPES_PER_CONNECTOR scopes sharing its
    tools; returns the connectors."""
    from registries.models import ComponentSpec, Connector, Scope
    from tests.workbench.factories import TenantFactory

    owner = TenantFactory(slug="bench-owner")
    schemas = [schema(index) for index in range(rows)]
    specs = ComponentSpec.objects.bulk_create(
        [
            ComponentSpec(
                spec_id=f"bench-{index:06d}", version="1.0.0", version_major=1,
                kind=ComponentSpec.Kind.COMPONENT, name=f"Bench {index}", schema=document,
                metadata={"spec_class": "mcp_connector", **metadata(index, document)},
            )
            for index, document in enumerate(schemas)
        ],
        batch_size=1000,
    )
    connectors = Connector.objects.bulk_create(
        [
            Connector(connector_id=spec.spec_id, name=spec.name, latest_spec=spec, owner=owner,
                      description=description)
            for spec in specs
        ],
        batch_size=1000,
    )
    Scope.objects.bulk_create(
        [
            Scope(spec=spec, connector=connector, name=f"scope_{number}",
                  tools=[f"tool_{index}_{n}" for n in range(number, TOOLS_PER_SPEC, SCOPES_PER_CONNECTOR)])
            for index, (spec, connector) in enumerate(zip(specs, connectors, strict=True))
            for number in range(SCOPES_PER_CONNECTOR)
        ],
        batch_size=2000,
    )
    return connectors


def getter(client, url):
    """A GET of `url` that stops the bench on anything but a 200; returns the body."""

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return response.content

    return get
