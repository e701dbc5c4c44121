"""The MCP Registry's `server.schema.json` (vendored in `mcp_registry/`, provenance and sha256 in its
README), loaded once: every server.json the workbench serves is checked against it, and every one it
imports."""

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.validators import validator_for

FOLDER = Path(__file__).with_name("mcp_registry")
SERVER_SCHEMA_PATH = FOLDER / "server.schema.json"
OPENAPI_PATH = FOLDER / "openapi.yaml"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"


@cache
def server_schema():
    return json.loads(SERVER_SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def server_json_validator():
    """A validator of the schema's own dialect, with format checks: jsonschema's (date-time) and `uri`,
    which jsonschema checks only with an optional package installed: here an absolute URI with a scheme
    and, for http(s), a host."""
    schema = server_schema()
    cls = validator_for(schema, default=Draft7Validator)
    checker = FormatChecker(formats=cls.FORMAT_CHECKER.checkers)
    checker.checks("uri", raises=ValueError)(_is_uri)
    return cls(schema, format_checker=checker)


def _is_uri(value):
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)  # ValueError for a malformed one (an unclosed IPv6 bracket)
    if not parts.scheme or any(char.isspace() for char in value):
        return False
    return bool(parts.netloc) or parts.scheme not in ("http", "https")


def server_json_errors(document):
    """(JSON path, message) for each way `document` breaks server.schema.json, in path order."""
    errors = sorted(server_json_validator().iter_errors(document), key=lambda error: str(error.absolute_path))
    return [(_path(error.absolute_path), error.message) for error in errors]


def _path(parts):
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)
