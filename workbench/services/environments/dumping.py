"""Dump the published state and policy as a fixture another database can load.

Only what is promoted between environments is dumped: published specs, connectors and scopes,
engine routes, the tool registry, firearms and their bindings, KPIs, corridors and KPI tool
bindings, and strategy lock policies. What differs per environment stays in fixtures/<env>/:
routing backends, grants (they name local users), budgets, lock state (engaged or not), usage.
Creation and save times and the publishing user (who may not exist elsewhere) are left out, so
dump -> load -> dump gives the same file and the dump loads with plain `loaddata` too.
"""

import datetime
import json

from django.apps import apps
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder

# When a row was created or last saved is this database's fact, not state to promote.
ALWAYS_EXCLUDED = {"created_at", "updated_at"}

DUMPED = {
    "registries.componentspec": {
        "exclude": {"published_by", "version_major", "version_minor", "version_patch"}
    },
    "registries.connector": {},
    "registries.scope": {},
    "registries.engineroute": {},
    "registries.toolpermission": {},
    "registries.tooldefinition": {},
    "policies.firearm": {},
    "policies.firearmbinding": {},
    "policies.kpidefinition": {},
    "policies.kpicorridor": {},
    "policies.kpitoolbinding": {},
    "policies.strategylock": {"exclude": {"engaged", "engaged_at", "engaged_by", "reason"}},
}


class _ExactJSONEncoder(DjangoJSONEncoder):
    """Keeps microseconds (DjangoJSONEncoder cuts them to milliseconds), so a dump loads back unchanged."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


def _fields(model, exclude):
    names = []
    for f in model._meta.get_fields():
        if not getattr(f, "concrete", False) or f.primary_key or f.auto_created:
            continue
        if f.name in ALWAYS_EXCLUDED or f.name in exclude:
            continue
        names.append(f.name)
    return names


def environment_dump(*, stream, models=None):
    """Write the promotable state as a JSON fixture (natural keys, no primary keys) to `stream`."""
    entries = []
    for label, options in (models or DUMPED).items():
        model = apps.get_model(label)
        key = getattr(model, "NATURAL_KEY", ()) or ("pk",)
        entries.extend(
            serializers.serialize(
                "python",
                model._base_manager.order_by(*key),
                fields=_fields(model, options.get("exclude", set())),
                use_natural_foreign_keys=True,
                use_natural_primary_keys=True,
            )
        )
    json.dump(entries, stream, cls=_ExactJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)
    stream.write("\n")
    return len(entries)
