"""Helpers of the MCP registry tests: openapi.yaml's response schemas as validators, clients, URLs."""

from functools import cache
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from registries.schemas.server_json import OPENAPI_PATH
from tests.workbench.factories import UserFactory, token_client

OFFICIAL = "io.modelcontextprotocol.registry/official"
POLICY = "io.workbench/policy"


@cache
def _openapi():
    return yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))


@cache
def openapi_validator(component):
    """A validator of one of openapi.yaml's components (ServerList, ServerResponse), its $refs resolved
    within the yaml, with format checks (date-time)."""
    document = _openapi()
    uri = document["$id"]
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(uri, resource)
    schema = {"$ref": f"{uri}#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def openapi_errors(component, body):
    errors = openapi_validator(component).iter_errors(body)
    return [f"{list(error.absolute_path)}: {error.message}" for error in errors]


def error_schema_errors(path, method, status, body):
    """The yaml's documented error body of an operation (e.g. 404: {"error": string})."""
    operation = _openapi()["paths"][path][method]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return [error.message for error in Draft202012Validator(schema).iter_errors(body)]


def reader():
    """A token client of a user holding registries.view_connector."""
    return token_client(UserFactory(perms=["registries.view_connector"]))


def name_path(connector_id, namespace="io.workbench.local"):
    """The URL-encoded serverName of a connector, as clients send it."""
    return quote(f"{namespace}/{connector_id}", safe="")


def versions_url(connector_id):
    return f"/v0/servers/{name_path(connector_id)}/versions"


def version_url(connector_id, version):
    return f"{versions_url(connector_id)}/{quote(version, safe='')}"


def walk(client, query=""):
    """Every page of /v0/servers from the first: (items, pages)."""
    items, pages, cursor = [], 0, None
    while True:
        url = "/v0/servers" + query + (("&" if query else "?") + f"cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert not openapi_errors("ServerList", body)
        items.extend(body["servers"])
        pages += 1
        cursor = body.get("metadata", {}).get("nextCursor")
        if not cursor:
            return items, pages
