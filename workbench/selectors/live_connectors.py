"""What is live for many connectors at once, in draft shape: the reads behind live_connector_snapshot
(selectors/drafts.py) and latest_published_connector_spec, for a whole file of connectors in a few
queries per chunk instead of five per connector."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from registries.models import ComponentSpec, Connector

#: connectors per query; binding lookups take the actions of a chunk in lists of at most ACTION_CHUNK
CHUNK = 500
ACTION_CHUNK = 2000


@dataclass
class LiveConnector:
    owner_id: int
    #: (spec_snapshot, policy_snapshot) as live_connector_snapshot gives them; (None, None) if unpublished
    spec: dict | None
    policy: dict | None
    #: the highest published version (by semver), as latest_published_connector_spec finds it, or None
    latest_version: str | None


def live_connectors(connector_ids):
    """{connector_id: LiveConnector} of those of `connector_ids` that exist."""
    from policies.models import FirearmBinding, KpiToolBinding

    ids = sorted(set(connector_ids))
    found = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        highest = (
            ComponentSpec.objects.filter(spec_id=OuterRef("connector_id"), kind=ComponentSpec.Kind.COMPONENT)
            .order_by("-version_major", "-version_minor", "-version_patch")
            .values("version")[:1]
        )
        rows = (
            Connector.objects.filter(connector_id__in=chunk)
            .annotate(highest_version=Subquery(highest))
            .values_list(
                "connector_id", "owner_id", "latest_spec_id", "latest_spec__schema", "highest_version"
            )
        )
        actions = {}  # action -> (connector_id, scope)
        for connector_id, owner_id, latest_spec_id, schema, highest_version in rows:
            live = LiveConnector(owner_id=owner_id, spec=None, policy=None, latest_version=highest_version)
            found[connector_id] = live
            if latest_spec_id is None:
                continue
            live.spec = dict(schema or {})
            names = [scope.get("name") for scope in live.spec.get("scopes") or [] if isinstance(scope, dict)]
            live.policy = {"firearms": dict.fromkeys(names), "kpis": {}}
            actions.update((f"{connector_id}:{name}", (connector_id, name)) for name in names if name)
        listed = sorted(actions)
        for first in range(0, len(listed), ACTION_CHUNK):
            part = listed[first : first + ACTION_CHUNK]
            firearms = FirearmBinding.objects.filter(action_name__in=part)
            for action, firearm_id in firearms.values_list("action_name", "firearm__firearm_id"):
                connector_id, name = actions[action]
                found[connector_id].policy["firearms"][name] = firearm_id
            kpis = KpiToolBinding.objects.filter(action_name__in=part).order_by("action_name", "kpi__kpi_id")
            for action, kpi_id in kpis.values_list("action_name", "kpi__kpi_id"):
                connector_id, name = actions[action]
                found[connector_id].policy["kpis"].setdefault(name, []).append(kpi_id)
    return found
