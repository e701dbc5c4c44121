"""Import from a `server.json` (the MCP Registry's description of a server, schema 2025-09-29): a server
already listed in any MCP registry opens a draft with its metadata, and with its tools when the result of
its `tools/list` comes along. The mapping is the reverse of the export's (README "Serving as an MCP
registry"): name's tail -> connector ID, title -> name, description, version, first package ->
packaging, remotes, repository, websiteUrl -> website_url. `_meta` is never read: policy (firearm
decisions, KPIs) is decided in the workbench, never taken from a document."""

import copy
import re

from django.db import transaction

from registries.schemas.server_json import server_json_errors
from workbench.kit import jsontext, semver
from workbench.kit.identifiers import CONNECTOR_ID
from workbench.kit.refusals import Refusal
from workbench.models import WorkbenchDraft
from workbench.selectors.drafts import latest_published_connector_spec, live_connector_snapshot

from .mcp_import import check_tools, parse_tools_list, propose_scopes
from .revisions import draft_create

#: The longest message kept per schema error: jsonschema quotes the offending value in its messages, and
#: a 1 MB package object would otherwise come back whole in the 400.
MESSAGE_LENGTH = 300
REQUIRED = re.compile(r"^'([^']+)' is a required property$")
PACKAGE_PATH = re.compile(r"^\$\.packages\[\d+\]$")
PACKAGE_HINT = (
    " (npm, pypi and nuget packages need an identifier and an exact version, oci an identifier, "
    "mcpb an identifier URL and fileSha256; every package a transport)"
)
REMOTE_FIELDS = ("type", "url")
REPOSITORY_FIELDS = ("url", "source", "id", "subfolder")


def _error_field(path, message):
    """`server.<path>` of one schema error; a missing property is named itself, not its parent."""
    missing = REQUIRED.match(message)
    if missing:
        path = f"{path}.{missing.group(1)}"
    return "server" + path.removeprefix("$")


def _message(path, message):
    if PACKAGE_PATH.match(path) and message.endswith("is not valid under any of the given schemas"):
        message = "Not a valid package" + PACKAGE_HINT + "."
    return message if len(message) <= MESSAGE_LENGTH else message[: MESSAGE_LENGTH - 1] + "…"


def load_server_json(document):
    """The server.json as a checked object: text or bytes are read by the project's JSON loader (NUL,
    lone surrogates, depth refused), then the whole document is checked against the vendored
    server.schema.json; 400 naming `server.<path>` for each problem."""
    if isinstance(document, bytes | bytearray | str):
        try:
            document = jsontext.loads(document, what="The server.json")
        except Refusal as refusal:
            raise Refusal.fields(
                {"server": [f"{e['field']}: {e['message']}" for e in refusal.errors] or [refusal.detail]}
            ) from None
    problems = {}
    for path, message in server_json_errors(document):
        problems.setdefault(_error_field(path, message), []).append(_message(path, message))
    if problems:
        raise Refusal.fields(problems)
    return document


def connector_id_of(name):
    """The connector ID a server name gives: the part after the last "/", lowercased, every character
    outside [a-z0-9-] made a "-", cut to 63; 400 naming `server.name` when that is still no connector ID
    (send `connector_id` then)."""
    tail = name.rsplit("/", 1)[-1].lower()
    candidate = re.sub(r"[^a-z0-9-]", "-", tail)[:63]
    if not re.fullmatch(CONNECTOR_ID, candidate):
        raise Refusal.fields(
            {
                "server.name": f"The name's last part {tail!r} gives no connector ID ({candidate!r} does not "
                f"match {CONNECTOR_ID}); send connector_id."
            }
        )
    return candidate


def packaging_of(package, server_version):
    """The spec's packaging from one server.json package (its arguments and environment stay behind).
    A package without a version (server.json lets an OCI image carry its tag in the identifier instead)
    takes the server's version, as the contract needs one."""
    packaging = {"registry_type": package["registryType"], "identifier": package["identifier"]}
    packaging["version"] = package.get("version") or server_version
    packaging["transport"] = package["transport"]["type"]
    # What the export needs to give the package back: a streamable-http/sse transport's URL, an MCPB
    # file's digest (registries/selectors/server_json.py reads the same keys).
    if package["transport"].get("url"):
        packaging["url"] = package["transport"]["url"]
    if package.get("fileSha256"):
        packaging["file_sha256"] = package["fileSha256"]
    return packaging


def metadata_of(document):
    """The spec fields a server.json sets, as the contract has them; what it leaves out is not here."""
    fields = {
        "name": document.get("title") or document["name"].rsplit("/", 1)[-1],
        "description": document["description"],
        "version": document["version"],
    }
    if document.get("packages"):
        fields["packaging"] = packaging_of(document["packages"][0], document["version"])
    if document.get("remotes"):
        # Headers and URL variables are for clients configuring a connection; the contract keeps none.
        fields["remotes"] = [{k: r[k] for k in REMOTE_FIELDS} for r in document["remotes"]]
    if document.get("repository"):
        repository = document["repository"]
        fields["repository"] = {k: repository[k] for k in REPOSITORY_FIELDS if k in repository}
    if document.get("websiteUrl"):
        fields["website_url"] = document["websiteUrl"]
    return fields


def _same_package(live, imported):
    """The live packaging under the imported one when both name the same package: what server.json
    cannot say (`bin`) is kept. Another package (or none imported) replaces it, or leaves it as it is."""
    if imported is None:
        return live if isinstance(live, dict) else {}
    if isinstance(live, dict) and all(live.get(k) == imported[k] for k in ("registry_type", "identifier")):
        return {**live, **imported}
    return imported


def _version_above(version, latest):
    """A live connector's draft must go above its latest version: the server.json's version when it is
    MAJOR.MINOR.PATCH and above it, else the next patch draft_create would start from."""
    if latest is None or (semver.parse(version) or (-1,)) > semver.parse(latest.version):
        return version
    return semver.next_patch(latest.version)


def draft_import_server_json(*, tenant, user, document, tools_list=None, connector_id=None, reason=""):
    """Open a draft from a server.json (object, or its text) and an optional tools/list result.

    The connector ID is `connector_id` when given, else the server name's last part. The draft opens
    through `draft_create`, so its rules hold unchanged: 403 `not_a_writer` outside the tenants the user
    owns or edits in, 403 `not_connector_owner` for a connector another tenant owns.

    A new connector's spec is the server.json's metadata (packaging `{}` when it lists no package).
    A connector that is already live opens as draft_create opens it (its latest version, today's
    firearm and KPI bindings) with the server.json's metadata applied on top; the version is the
    server.json's when it is above the latest published one, else the next patch. Fields the server.json
    does not have keep the live values.

    With a tools/list result the tools are checked and scopes proposed exactly as an MCP import does
    (`mcp_import`), the draft starts at `scoping`, and a live connector keeps only the firearm and KPI
    decisions of scopes that still exist. Without one, a new connector has no tools yet (`definition`)
    and a live one keeps its tools and scopes.

    One transaction: a refusal anywhere leaves nothing written.
    """
    document = load_server_json(document)
    if tools_list is not None:
        tools = parse_tools_list(tools_list)
        check_tools(tools)
    connector_id = connector_id or connector_id_of(document["name"])
    fields = metadata_of(document)
    with transaction.atomic():
        live_spec, live_policy = live_connector_snapshot(connector_id)
        if live_spec is not None:
            spec = copy.deepcopy(live_spec)
            latest = latest_published_connector_spec(connector_id)
            fields["version"] = _version_above(fields["version"], latest)
            policy = copy.deepcopy(live_policy)
            fields["packaging"] = _same_package(spec.get("packaging"), fields.get("packaging"))
        else:
            spec = {"id": connector_id, "tools": [], "scopes": [], "packaging": {}, "portability": {}}
            policy = {"firearms": {}, "kpis": {}}
        spec.update(fields, id=connector_id)
        stage = WorkbenchDraft.Stage.DEFINITION
        if tools_list is not None:
            spec["tools"] = tools
            spec["scopes"] = propose_scopes(tools)
            names = {scope["name"] for scope in spec["scopes"]}
            policy = {
                section: {k: v for k, v in (policy.get(section) or {}).items() if k in names}
                for section in ("firearms", "kpis")
            }
            stage = WorkbenchDraft.Stage.SCOPING
        return draft_create(
            tenant=tenant,
            user=user,
            connector_id=connector_id,
            spec_snapshot=spec,
            policy_snapshot=policy,
            stage=stage,
            reason=reason or f"imported from server.json {document['name']}",
        )
