"""server.json (MCP Registry, schema 2025-09-29) of published connector versions, and the registry's
`ServerResponse` around each one.

The mapping spec <-> server.json is the one of issue 15 (README "Serving as an MCP registry"). Documents are
built for a batch of versions at once: the versions' rows in one query, then their scopes, the firearm and
KPI bindings of those scopes and the strategy locks, each read once per batch, so a page costs the same
number of queries whatever its length.
"""

import base64
import binascii
import json
from collections import defaultdict
from datetime import UTC

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat

from policies.models import FirearmBinding, KpiToolBinding, StrategyLock
from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope
from registries.schemas.server_json import SCHEMA_URL

OFFICIAL = "io.modelcontextprotocol.registry/official"
POLICY = "io.workbench/policy"
DESCRIPTION_LIMIT = 100  # server.schema.json's maxLength of description (and of title)
ELLIPSIS = "…"
# The spec's own fields are read out of its JSON by key: the whole schema (every tool's schemas) is not.
_ROW_FIELDS = {
    "pk": "pk", "connector_id": "spec_id", "version": "version", "spec_name": "name",
    "spec_description": "description", "published_at": "published_at", "deprecated_at": "deprecated_at",
    "latest_id": "latest_id", "name": "schema__name", "description": "schema__description",
    "packaging": "schema__packaging", "meta_packaging": "metadata__packaging",
    "repository": "schema__repository", "website_url": "schema__website_url", "remotes": "schema__remotes",
    "draft": "metadata__draft_id", "revision": "metadata__draft_revision", "kind": "kind",
    "spec_class": "metadata__spec_class",
}


def dumps(document):
    """The one serialization of a server.json (and of the /v0 answers around it): compact UTF-8 JSON, so
    the bytes of a file, of the admin download and of the API's `server` member are the same."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def server_name(connector_id):
    return f"{settings.WORKBENCH_REGISTRY_NAMESPACE}/{connector_id}"


def connector_id_of(name):
    """The connector id a server name of this registry names, or None when it is not one of ours."""
    prefix = f"{settings.WORKBENCH_REGISTRY_NAMESPACE}/"
    return name[len(prefix):] if name.startswith(prefix) else None


def published_versions():
    """Published connector versions: mcp_connector specs of an existing connector."""
    connectors = Connector.objects.filter(connector_id=OuterRef("spec_id"))
    return ComponentSpec.objects.filter(
        Exists(connectors), kind=ComponentSpec.Kind.COMPONENT, metadata__spec_class=MCP_CONNECTOR_CLASS
    )


def _with_latest(versions):
    """`latest_id`: the pk of each version's connector's latest version."""
    latest = Connector.objects.filter(connector_id=OuterRef("spec_id")).values("latest_spec_id")[:1]
    return versions.annotate(latest_id=Subquery(latest))


def _rows(queryset):
    keys = tuple(_ROW_FIELDS)
    return [dict(zip(keys, values, strict=True)) for values in queryset.values_list(*_ROW_FIELDS.values())]


# -- the /v0 reads ----------------------------------------------------------------------------------


def encode_cursor(pk):
    return base64.urlsafe_b64encode(f"spec:{pk}".encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor):
    """The pk a cursor of encode_cursor names, or None for anything else."""
    if not cursor.isascii() or len(cursor) > 40:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    kind, _, number = text.partition(":")
    if kind != "spec" or not number.isascii() or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


def servers_page(*, after=None, limit, search="", updated_since=None, version=None):
    """([ServerResponse], pk of the last one when more follow, else None): versions in pk order after the
    pk `after`. pks only grow, so a walk sees each version that existed when it started exactly once."""
    # The page is the next specs of an existing connector in pk order: a walk of the pk index that stops
    # at the page's end, however many versions there are. Their class is checked on the page's rows (a
    # spec of another class sharing a connector's id, which publish never makes, leaves a page shorter).
    specs = ComponentSpec.objects.filter(Exists(Connector.objects.filter(connector_id=OuterRef("spec_id"))))
    if after is not None:
        specs = specs.filter(pk__gt=after)
    if search:
        prefix = f"{settings.WORKBENCH_REGISTRY_NAMESPACE}/"
        specs = specs.alias(server_name=Concat(Value(prefix), "spec_id"))
        specs = specs.filter(server_name__icontains=search)
    if updated_since is not None:
        specs = specs.filter(Q(published_at__gt=updated_since) | Q(deprecated_at__gt=updated_since))
    if version == "latest":
        latest = Connector.objects.filter(connector_id=OuterRef("spec_id"), latest_spec_id=OuterRef("pk"))
        specs = specs.filter(Exists(latest))
    elif version is not None:
        specs = specs.filter(version=version)
    page = specs.order_by("pk").values("pk")[: limit + 1]
    # Then the page's rows: the keys of the spec's JSON are read for them only.
    rows = _rows(_with_latest(ComponentSpec.objects.filter(pk__in=Subquery(page))).order_by("pk"))
    last = rows[limit - 1]["pk"] if len(rows) > limit else None
    versions = [row for row in rows[:limit] if _is_connector_version(row)]
    return server_responses(versions), last


def _is_connector_version(row):
    return row["kind"] == ComponentSpec.Kind.COMPONENT and row["spec_class"] == MCP_CONNECTOR_CLASS


def server_versions(*, connector_id):
    """Every published version of a connector as ServerResponses, newest first."""
    versions = _with_latest(published_versions().filter(spec_id=connector_id))
    versions = versions.order_by("-published_at", "-pk")
    return server_responses(_rows(versions))


def server_version(*, connector_id, version):
    """One version's ServerResponse (`latest`: the connector's latest), or None."""
    versions = _with_latest(published_versions().filter(spec_id=connector_id))
    versions = versions.filter(pk=F("latest_id")) if version == "latest" else versions.filter(version=version)
    rows = _rows(versions)
    return server_responses(rows)[0] if rows else None


# -- building the documents -------------------------------------------------------------------------


def server_responses(rows):
    """[{"server": server.json, "_meta": {OFFICIAL: ...}}] for version rows of `_rows`, in their order."""
    if not rows:
        return []
    policy = _Policy(rows)
    return [
        {"server": _server(row, policy), "_meta": {OFFICIAL: _official(row)}}
        for row in rows
    ]


def _timestamp(value):
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _official(row):
    published, deprecated = row["published_at"], row["deprecated_at"]
    return {
        "status": "deprecated" if deprecated else "active",
        "publishedAt": _timestamp(published),
        "updatedAt": _timestamp(deprecated or published),
        "isLatest": row["pk"] == row["latest_id"],
    }


def short_description(text):
    """`text` when it fits server.json's 100 characters, else cut at the last word boundary before them
    with an ellipsis (counted in the 100)."""
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    head = text[: DESCRIPTION_LIMIT - len(ELLIPSIS)]
    if not text[len(head)].isspace():
        cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        head = head[:cut] if cut > 0 else head
    return head.rstrip() + ELLIPSIS


def _text(value):
    return value.strip() if isinstance(value, str) else ""


def _server(row, policy):
    connector_id = row["connector_id"]
    title = _text(row["name"]) or _text(row["spec_name"])
    description = _text(row["description"]) or _text(row["spec_description"])
    document = {
        "$schema": SCHEMA_URL,
        "name": server_name(connector_id),
        # server.json wants a description: a version published without one is described by its title.
        "description": short_description(description or title or f"MCP connector {connector_id}"),
        "version": row["version"],
    }
    if title:
        document["title"] = title[:DESCRIPTION_LIMIT]
    packages = _packages(row["packaging"] or row["meta_packaging"])
    if packages:
        document["packages"] = packages
    remotes = _remotes(row["remotes"])
    if remotes:
        document["remotes"] = remotes
    repository = _repository(row["repository"])
    if repository:
        document["repository"] = repository
    if isinstance(row["website_url"], str) and row["website_url"]:
        document["websiteUrl"] = row["website_url"]
    document["_meta"] = {POLICY: policy.of(row, description)}
    return document


def _packages(packaging):
    """The spec's packaging as server.json packages: none when it cannot make a valid one (an HTTP
    transport without its url, an MCPB file without its sha256): remotes then say where the server is."""
    if not isinstance(packaging, dict):
        return []
    registry_type, identifier, version = (
        packaging.get("registry_type"), packaging.get("identifier"), packaging.get("version")
    )
    if not (registry_type and identifier and version):
        return []
    transport = {"type": packaging.get("transport") or "stdio"}
    if transport["type"] != "stdio":
        if not packaging.get("url"):
            return []
        transport["url"] = packaging["url"]
    package = {
        "registryType": registry_type, "identifier": identifier, "version": version, "transport": transport
    }
    if registry_type == "mcpb":
        if not packaging.get("file_sha256"):
            return []
        package["fileSha256"] = packaging["file_sha256"]
    return [package]


def _remotes(remotes):
    if not isinstance(remotes, list):
        return []
    return [
        {"type": item["type"], "url": item["url"]}
        for item in remotes
        if isinstance(item, dict) and item.get("type") in ("streamable-http", "sse") and item.get("url")
    ]


def _repository(repository):
    if not isinstance(repository, dict) or not repository.get("url") or not repository.get("source"):
        return None
    return {key: repository[key] for key in ("url", "source", "id", "subfolder") if repository.get(key)}


class _Policy:
    """The policy of a batch of versions: their scopes, the firearm and KPIs bound to each scope's action
    and the strategy locks, read once for the batch."""

    def __init__(self, rows):
        self.scopes = defaultdict(list)
        scopes = Scope.objects.filter(spec_id__in=[row["pk"] for row in rows]).order_by("spec_id", "name")
        for scope in scopes.values("spec_id", "name", "tools"):
            self.scopes[scope["spec_id"]].append(scope)
        by_pk = {row["pk"]: row["connector_id"] for row in rows}
        actions = {f"{by_pk[pk]}:{scope['name']}" for pk, items in self.scopes.items() for scope in items}
        self.firearms, self.kpis = {}, defaultdict(list)
        if actions:
            firearms = FirearmBinding.objects.filter(action_name__in=actions)
            self.firearms = dict(firearms.values_list("action_name", "firearm__firearm_id"))
            bindings = KpiToolBinding.objects.filter(action_name__in=actions)
            bindings = bindings.order_by("action_name", "kpi__kpi_id")
            for binding in bindings.values(
                "action_name", "effect", "kpi__kpi_id", "kpi__name", "kpi__unit", "kpi__direction",
                "kpi__corridor__lower", "kpi__corridor__upper", "kpi__corridor__critical_lower",
                "kpi__corridor__critical_upper",
            ):
                self.kpis[binding["action_name"]].append(_kpi(binding))
        self.locks = _locks()

    def of(self, row, description):
        connector_id = row["connector_id"]
        scopes = []
        for scope in self.scopes.get(row["pk"], []):
            action = f"{connector_id}:{scope['name']}"
            scopes.append({
                "name": scope["name"], "action": action, "tools": list(scope["tools"] or []),
                "firearm": self.firearms.get(action), "kpis": self.kpis.get(action, []),
            })
        actions = {scope["action"] for scope in scopes}
        firearms = {scope["firearm"] for scope in scopes if scope["firearm"]}
        locks = [
            {"name": lock["name"], "engaged": lock["engaged"]}
            for lock in self.locks
            if connector_id in lock["connectors"] or actions & lock["actions"] or firearms & lock["firearms"]
        ]
        return {
            "connector": connector_id,
            "description": description,
            "scopes": scopes,
            "strategyLocks": locks,
            "publishedFrom": {"draft": row["draft"], "revision": row["revision"]},
        }


def _decimal(value):
    return None if value is None else format(value.normalize(), "f")


def _kpi(binding):
    bounds = ("lower", "upper", "critical_lower", "critical_upper")
    corridor = None
    if any(binding[f"kpi__corridor__{bound}"] is not None for bound in bounds):
        corridor = {
            "lower": _decimal(binding["kpi__corridor__lower"]),
            "upper": _decimal(binding["kpi__corridor__upper"]),
            "criticalLower": _decimal(binding["kpi__corridor__critical_lower"]),
            "criticalUpper": _decimal(binding["kpi__corridor__critical_upper"]),
        }
    return {
        "kpi": binding["kpi__kpi_id"], "name": binding["kpi__name"], "unit": binding["kpi__unit"],
        "direction": binding["kpi__direction"], "effect": binding["effect"], "corridor": corridor,
    }


def _locks():
    """Every strategy lock (they are few) with what it covers, in three queries whatever their number."""
    locks = {
        lock["pk"]: {**lock, "actions": set(lock["actions"] or []), "connectors": set(), "firearms": set()}
        for lock in StrategyLock.objects.order_by("name").values("pk", "name", "engaged", "actions")
    }
    if locks:
        connectors = StrategyLock.connectors.through.objects
        for lock_id, connector_id in connectors.values_list("strategylock_id", "connector__connector_id"):
            locks[lock_id]["connectors"].add(connector_id)
        firearms = StrategyLock.firearms.through.objects
        firearms = firearms.values_list("strategylock_id", "firearm__firearm_id")
        for lock_id, firearm_id in firearms:
            locks[lock_id]["firearms"].add(firearm_id)
    return list(locks.values())
