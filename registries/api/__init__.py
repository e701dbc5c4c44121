"""REST API of the live registries: read-only specs, connectors and scopes; editable routing."""
