"""The MCP Registry read API under /v0/ (registries/schemas/mcp_registry/openapi.yaml, 2025-09-29): every
published connector version as a `ServerResponse` (server.json plus the registry's official metadata).

It speaks the registry's dialect, not the rest of the API's: errors are `{"error": "..."}` JSON, lists
are cursor pages (`metadata.nextCursor`, `count`). Readers need a token with registries.view_connector
unless settings.WORKBENCH_REGISTRY_PUBLIC opens it to anyone. Publishing (`POST /v0/publish`) is not
offered: versions are published through drafts. The selectors build the documents; the bytes of each
`server` member are `server_json.dumps` of it, as the export command and the admin download write them.
"""

import unicodedata
from datetime import UTC

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from registries.selectors import server_json
from workbench.kit import identifiers as ids
from workbench.kit.api.errors import problem_exception_handler

DEFAULT_LIMIT = 30  # the official registry's default page and its largest
MAX_LIMIT = 100
MAX_TEXT = 200  # a server name's maxLength: no search or timestamp is longer
JSON = "application/json"


def registry_exception_handler(exc, context):
    """The project's handler decides the status (and Retry-After); the body is the registry's."""
    response = problem_exception_handler(exc, context)
    if response is not None:
        problem = response.data if isinstance(response.data, dict) else {}
        response.data = {"error": str(problem.get("detail") or problem.get("title") or "Error")}
        response.content_type = JSON
    return response


def not_found(request, *args, **kwargs):
    """Any other URL under /v0/ (POST /v0/publish included: this registry is read-only)."""
    return JsonResponse({"error": "Not found"}, status=404)


class RegistryReader(BasePermission):
    message = "Reading the registry needs the registries.view_connector permission."

    def has_permission(self, request, view):
        signed_in = bool(request.user and request.user.is_authenticated)
        # A method the registry does not offer is 405 to whoever may read it, as in the rest of the API.
        if (signed_in or settings.WORKBENCH_REGISTRY_PUBLIC) and request.method not in view.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        if settings.WORKBENCH_REGISTRY_PUBLIC:
            return True
        return signed_in and request.user.has_perm("registries.view_connector")


class RegistryErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong, e.g. \"Server not found\".")


def _error(description):
    return OpenApiResponse(RegistryErrorSerializer, description=description)


OFFICIAL_META = {
    "type": "object",
    "description": "Registry-managed metadata.",
    "properties": {
        server_json.OFFICIAL: {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["active", "deprecated", "deleted"]},
                "publishedAt": {"type": "string", "format": "date-time"},
                "updatedAt": {"type": "string", "format": "date-time"},
                "isLatest": {"type": "boolean"},
            },
        }
    },
}
SERVER_RESPONSE = {
    "type": "object",
    "description": "openapi.yaml's ServerResponse: a server.json and the registry's metadata.",
    "required": ["server", "_meta"],
    "properties": {
        "server": {
            "type": "object",
            "description": "server.json (server.schema.json 2025-09-29); the policy is in "
            f"_meta[\"{server_json.POLICY}\"].",
            "additionalProperties": True,
        },
        "_meta": OFFICIAL_META,
    },
}
SERVER_LIST = {
    "type": "object",
    "description": "openapi.yaml's ServerList.",
    "required": ["servers"],
    "properties": {
        "servers": {"type": "array", "items": SERVER_RESPONSE},
        "metadata": {
            "type": "object",
            "properties": {
                "nextCursor": {"type": "string", "description": "Absent on the last page."},
                "count": {"type": "integer", "description": "Items on this page."},
            },
        },
    },
}
ERRORS = {
    401: _error("No or unknown credentials (the registry is not public)."),
    403: _error("The token's user lacks registries.view_connector."),
    406: _error("The Accept header names no type this endpoint answers."),
    503: _error("The database cannot be reached; retry after Retry-After seconds."),
}
NAME = OpenApiParameter(
    "serverName", OpenApiTypes.STR, OpenApiParameter.PATH,
    description="URL-encoded server name, e.g. io.workbench.local%2Fgithub.",
)


class RegistryView(APIView):
    permission_classes = [RegistryReader]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return registry_exception_handler


def _answer(body):
    return HttpResponse(body, content_type=JSON)


def _server_response(item):
    # The `server` member is server_json.dumps of the document: the very bytes of the exported file.
    server, meta = server_json.dumps(item["server"]), server_json.dumps(item["_meta"])
    return b'{"server":' + server + b',"_meta":' + meta + b"}"


def _server_list(items, metadata):
    servers = b",".join(_server_response(item) for item in items)
    return b'{"servers":[' + servers + b'],"metadata":' + server_json.dumps(metadata) + b"}"


def _text_param(request, name):
    value = request.query_params.get(name, "")
    if len(value) > MAX_TEXT or any(unicodedata.category(char)[0] == "C" for char in value):
        raise exceptions.ParseError(f"{name} must be at most {MAX_TEXT} printable characters.")
    return value


def _limit(request):
    value = _text_param(request, "limit")
    if not value:
        return DEFAULT_LIMIT
    # ASCII digits only: int() would also take "١٠" or " 10 ".
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise exceptions.ParseError(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(value)


def _updated_since(request):
    value = _text_param(request, "updated_since")
    if not value:
        return None
    try:
        moment = parse_datetime(value) if value.isascii() else None
        # In UTC here, as the query will be: year 1 at +01:00 or year 9999 at -01:00 has no UTC time.
        moment = moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise exceptions.ParseError("updated_since must be an RFC 3339 timestamp, e.g. 2025-01-01T00:00:00Z.")
    return moment


def _version(request):
    """`latest`, an exact version, or None for every version (as the official registry's `version`)."""
    value = _text_param(request, "version")
    if not value:
        return None
    if value != "latest" and not ids.validate_semver.regex.fullmatch(value):
        raise exceptions.ParseError("version must be `latest` or a version such as 1.2.0.")
    return value


def _connector_id(name):
    """The connector a serverName names; a name that cannot be one of ours is not found."""
    connector_id = server_json.connector_id_of(name)
    if connector_id is None or not ids.validate_connector_id.regex.fullmatch(connector_id):
        raise exceptions.NotFound("Server not found")
    return connector_id


class ServerListView(RegistryView):
    @extend_schema(
        operation_id="v0_servers_list",
        tags=["mcp-registry"],
        summary="List MCP servers",
        description="Every published connector version, oldest first, a cursor page at a time.",
        parameters=[
            OpenApiParameter(
                "cursor", OpenApiTypes.STR, description="metadata.nextCursor of the previous page."
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT}, {DEFAULT_LIMIT} unless told."
            ),
            OpenApiParameter("search", OpenApiTypes.STR, description="Part of the server name (any case)."),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME,
                description="RFC 3339: only versions published or deprecated after it.",
            ),
            OpenApiParameter(
                "version", OpenApiTypes.STR,
                description="`latest` for each server's latest version only, or an exact version.",
            ),
        ],
        responses={
            200: OpenApiResponse(SERVER_LIST, description="A page of server versions."),
            400: _error("A malformed cursor, limit, search, updated_since or version."),
            **ERRORS,
        },
    )
    def get(self, request):
        limit = _limit(request)
        cursor = _text_param(request, "cursor")
        after = server_json.decode_cursor(cursor) if cursor else None
        if cursor and after is None:
            raise exceptions.ParseError("cursor is not one this registry gave.")
        items, last = server_json.servers_page(
            after=after, limit=limit, search=_text_param(request, "search"),
            updated_since=_updated_since(request), version=_version(request),
        )
        metadata = {"count": len(items)}
        if last is not None:
            metadata["nextCursor"] = server_json.encode_cursor(last)
        return _answer(_server_list(items, metadata))


class ServerVersionsView(RegistryView):
    @extend_schema(
        operation_id="v0_server_versions_list",
        tags=["mcp-registry"],
        summary="List all versions of an MCP server",
        description="Every published version of one server, newest first.",
        parameters=[NAME],
        responses={
            200: OpenApiResponse(SERVER_LIST, description="The server's versions."),
            404: _error("Server not found."),
            **ERRORS,
        },
    )
    def get(self, request, serverName):
        items = server_json.server_versions(connector_id=_connector_id(serverName))
        if not items:
            raise exceptions.NotFound("Server not found")
        return _answer(_server_list(items, {"count": len(items)}))


class ServerVersionView(RegistryView):
    @extend_schema(
        operation_id="v0_server_version_retrieve",
        tags=["mcp-registry"],
        summary="Get specific MCP server version",
        description="One published version; `latest` names the connector's latest.",
        parameters=[
            NAME,
            OpenApiParameter(
                "version", OpenApiTypes.STR, OpenApiParameter.PATH,
                description="MAJOR.MINOR.PATCH, or latest.",
            ),
        ],
        responses={
            200: OpenApiResponse(SERVER_RESPONSE, description="The server version."),
            404: _error("Server or version not found."),
            **ERRORS,
        },
    )
    def get(self, request, serverName, version):
        connector_id = _connector_id(serverName)
        if version != "latest" and not ids.validate_semver.regex.fullmatch(version):
            raise exceptions.NotFound("Server not found")
        item = server_json.server_version(connector_id=connector_id, version=version)
        if item is None:
            raise exceptions.NotFound("Server not found")
        return _answer(_server_response(item))
