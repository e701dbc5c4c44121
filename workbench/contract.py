"""What the MCP contract says about a draft's spec, read without the database: checks against the contract
schema (workbench/schemas/mcp_contract.schema.json) for the whole spec, one MCP Tool, and each tool's
inputSchema/outputSchema with the tool registry's own schema checks; what a tool's annotations mean; the
entitlements a spec declares. Services, selectors and the admin all read the contract through here."""

import re
from functools import cache

from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator

from registries.schemas import schema_errors
from workbench.kit import identifiers as ids
from workbench.schemas import load_schema

MAX_ERRORS_PER_SCHEMA = 5
EXACT_VERSION = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


@cache
def contract_validator():
    contract = load_schema("mcp_contract")
    # The contract file repeats the identifier formats; a drift would let validation pass what the
    # registries' constraints then refuse at publish.
    for key, pattern in (("id", ids.CONNECTOR_ID), ("version", ids.SEMVER)):
        if contract["properties"][key]["pattern"] != pattern:
            raise ImproperlyConfigured(
                f"mcp_contract.schema.json: the {key} pattern differs from identifiers."
            )
    return Draft202012Validator(contract)


@cache
def policy_validator():
    return Draft202012Validator(load_schema("draft_policy"))


@cache
def tool_validator():
    contract = load_schema("mcp_contract")
    return Draft202012Validator({"$defs": contract["$defs"], "$ref": "#/$defs/tool"})


@cache
def section_validator(key):
    """A validator for one property of the spec (`portability`, `skills`, ...), as the contract says it."""
    contract = load_schema("mcp_contract")
    return Draft202012Validator({"$defs": contract["$defs"], **contract["properties"][key]})


def section_findings(key, value, path):
    """Everything wrong with one property of the spec against the contract (the card checks its
    portability and skills fields with this, the same rule validation applies to the whole spec)."""
    return schema_findings(section_validator(key), value, path)


def strings(value):
    """The string items of a list (anything else in a list the contract describes is already a finding)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def named(value, key="name"):
    """The objects of a list that carry a string `key` (the rest are already contract findings)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict) and isinstance(item.get(key), str)]


def finding(path, message, *, severity="error", code="invalid"):
    return {"path": path, "severity": severity, "code": code, "message": message}


def _joined(prefix, json_path):
    # jsonschema's json_path is "$.tools[3].name"; findings use "spec_snapshot.tools[3].name".
    return f"{prefix}{json_path[1:]}"


def schema_findings(validator, instance, prefix):
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    return [finding(_joined(prefix, error.json_path), error.message, code="contract") for error in errors]


def json_schema_findings(schema, path):
    """Findings for a tool's inputSchema/outputSchema, judged exactly as the tool registry judges its
    tools' schemas (registries.schemas.schema_errors): valid under the metaschema of the dialect its
    `$schema` names (2020-12 when none) with formats such as `regex` checked, only local `$ref`s, and
    none of them dangling."""
    if not isinstance(schema, dict):
        return [finding(path, "Must be a JSON Schema object.", code="invalid_json_schema")]
    if "$schema" in schema and not isinstance(schema["$schema"], str):
        # The dialect lookup needs a string; anything else names no dialect at all.
        return [
            finding(f"{path}.$schema", "$schema must be a dialect URI string.", code="invalid_json_schema")
        ]
    return [
        finding(item.path, _sentence(item.message), code="invalid_json_schema")
        for item in schema_errors(schema, path=path)[:MAX_ERRORS_PER_SCHEMA]
    ]


def _sentence(message):
    return message[:1].upper() + message[1:]


def tool_findings(tool, path):
    """Everything wrong with one MCP Tool object: its shape, then its schemas."""
    found = schema_findings(tool_validator(), tool, path)
    if isinstance(tool, dict):
        for key in ("inputSchema", "outputSchema"):
            if isinstance(tool.get(key), dict):
                found.extend(json_schema_findings(tool[key], f"{path}.{key}"))
    return found


def _annotations(tool):
    annotations = tool.get("annotations") if isinstance(tool, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def is_read_only(tool):
    return _annotations(tool).get("readOnlyHint") is True


def is_destructive(tool):
    """Annotations are untrusted hints: not read-only means destructive unless the tool says otherwise."""
    annotations = _annotations(tool)
    if annotations.get("readOnlyHint") is True:
        return False
    return annotations.get("destructiveHint") is not False


def is_exact_version(value):
    # fullmatch: "$" alone would let "1.2.0\n" through.
    return isinstance(value, str) and bool(EXACT_VERSION.fullmatch(value))


def declared_entitlements(spec):
    """Billing entitlements the spec declares (portability or metadata), PRODUCT.md section 8."""
    found = []
    for section in ("portability", "metadata"):
        value = spec.get(section) if isinstance(spec, dict) else None
        value = value.get("entitlements") if isinstance(value, dict) else None
        found.extend(value if isinstance(value, list) else [value] if value else [])
    return [str(item) for item in found]


# -- packaging --------------------------------------------------------------------------------------

#: npm: an optional @scope, lower case, at most 214 characters (npm's validate-npm-package-name)
NPM_PACKAGE = re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
#: PyPI: a PEP 508 project name
PYPI_PROJECT = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
#: OCI: an image reference as the distribution grammar writes it: [registry[:port]/]path[:tag][@digest]
_OCI_DOMAIN = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*(?::[0-9]+)?"  # noqa: E501
_OCI_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
OCI_IMAGE = re.compile(
    rf"^(?:{_OCI_DOMAIN}/)?{_OCI_PATH}(?:/{_OCI_PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
PACKAGE_REQUIRED = ("registry_type", "identifier", "version")
#: how forms name the values the contract allows (a value without a label shows as itself)
PACKAGING_LABELS = {"pypi": "PyPI", "oci": "OCI image", "nuget": "NuGet", "mcpb": "MCP bundle (mcpb)"}


def packaging_choices(key):
    """(value, label) of every value the contract schema allows for packaging `key` (`registry_type`,
    `transport`): the card and the MCP import page offer exactly these."""
    allowed = load_schema("mcp_contract")["$defs"]["packaging"]["properties"][key]["enum"]
    return [(value, PACKAGING_LABELS.get(value, value)) for value in allowed]
IDENTIFIERS = {
    "npm": (NPM_PACKAGE, 214, "an npm package name such as @acme/github-mcp (lower case, optional @scope)"),
    "pypi": (PYPI_PROJECT, 200, "a PyPI project name such as acme-github-mcp"),
    "oci": (OCI_IMAGE, 500, "an OCI image reference such as ghcr.io/acme/github-mcp[:tag][@sha256:…]"),
}


def packaging_problems(packaging, prefix="packaging"):
    """{field path: [message]} of everything wrong with a draft's packaging: the contract's shape (registry
    type, required identifier and version, transport), an identifier of the registry type's form (npm
    name, PyPI project, OCI image reference) and an exact version (no range, no tag such as latest).
    The MCP import page, the API's import-mcp and the draft service all judge packaging with this."""
    problems = {}

    def add(key, message):
        problems.setdefault(f"{prefix}.{key}" if key else prefix, []).append(message)

    if isinstance(packaging, dict):
        # An empty value is a value not given: said the same way whether a form left the field out or
        # an API client sent "".
        blank = [key for key, value in packaging.items() if value == ""]
        for key in blank:
            add(key, "Required when a package is given." if key in PACKAGE_REQUIRED else "Must not be empty.")
        packaging = {key: value for key, value in packaging.items() if key not in blank}
    for item in schema_findings(section_validator("packaging"), packaging, prefix):
        path = item["path"]
        missing = re.match(r"^'([^']+)' is a required property$", item["message"])
        if missing:
            if f"{prefix}.{missing.group(1)}" not in problems:
                add(missing.group(1), "Required when a package is given.")
        else:
            # jsonschema quotes the value: a huge one is not sent back whole.
            problems.setdefault(path, []).append(_sentence(item["message"])[:300])
    if not isinstance(packaging, dict):
        return problems
    identifier, registry_type = packaging.get("identifier"), packaging.get("registry_type")
    rule = IDENTIFIERS.get(registry_type) if isinstance(registry_type, str) else None
    if rule and isinstance(identifier, str) and identifier:
        pattern, longest, what = rule
        if len(identifier) > longest or not pattern.fullmatch(identifier):
            add("identifier", f"Not {what}.")
    version = packaging.get("version")
    if isinstance(version, str) and version and not is_exact_version(version):
        add("version", f"Must be an exact version such as 1.2.0, not {version[:50]!r} (no ranges, no tags).")
    return problems
