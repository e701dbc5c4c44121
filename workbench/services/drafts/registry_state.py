"""What only the live registries can say about a draft's content (the `verification` findings and the
ids its policy names): firearm and KPI ids exist, the version is above the latest published, no engaged
strategy lock covers it, its skills are its own and free, the connector is the draft's tenant's.

Validation checks one draft; the publish confirmation forecasts many, so what these rules read is read
first, once for all of them (`registry_reads`), and each draft is then judged from it."""

from dataclasses import dataclass

from policies.models import Firearm, KpiDefinition, StrategyLock
from registries.models import ComponentSpec, Connector
from workbench.contract import finding, named
from workbench.kit import semver


def _as_list(value):
    return value if isinstance(value, list) else []


def _as_dict(value):
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class RegistryReads:
    """The registries' rows the rules below read, for a set of drafts' contents."""

    firearms: frozenset  # firearm ids that exist, of those named
    kpis: frozenset  # KPI ids that exist, of those named
    latest: dict  # {connector_id: highest published version (semver), or None}
    locks: tuple  # engaged strategy locks, their connectors and firearms prefetched
    skills_taken: frozenset  # (spec_id, version) published, of the skills named at their versions


def registry_reads(contents):
    """RegistryReads for `contents` ([(connector_id, spec, policy)]) in a fixed number of queries,
    whatever their number."""
    contents = [(connector_id, _as_dict(spec), _as_dict(policy)) for connector_id, spec, policy in contents]
    wanted_firearms, wanted_kpis, skill_ids, versions = set(), set(), set(), set()
    for _, spec, policy in contents:
        firearms, kpis = _as_dict(policy.get("firearms")), _as_dict(policy.get("kpis"))
        wanted_firearms.update(value for value in firearms.values() if isinstance(value, str))
        wanted_kpis.update(kpi for value in kpis.values() for kpi in _as_list(value) if isinstance(kpi, str))
        skills = named(spec.get("skills"), "spec_id")
        if skills and isinstance(spec.get("version"), str):
            skill_ids.update(skill["spec_id"] for skill in skills)
            versions.add(spec["version"])
    latest = {}
    # The highest version by semver first, as latest_published_connector_spec finds it.
    for spec_id, version in (
        ComponentSpec.objects.filter(
            spec_id__in={connector_id for connector_id, _, _ in contents}, kind=ComponentSpec.Kind.COMPONENT
        )
        .order_by("spec_id", "-version_major", "-version_minor", "-version_patch")
        .values_list("spec_id", "version")
    ):
        latest.setdefault(spec_id, version)
    taken = frozenset()
    if skill_ids:
        taken = frozenset(
            ComponentSpec.objects.filter(spec_id__in=skill_ids, version__in=versions).values_list(
                "spec_id", "version"
            )
        )
    return RegistryReads(
        firearms=frozenset(
            Firearm.objects.filter(firearm_id__in=wanted_firearms).values_list("firearm_id", flat=True)
        ),
        kpis=frozenset(KpiDefinition.objects.filter(kpi_id__in=wanted_kpis).values_list("kpi_id", flat=True)),
        latest=latest,
        locks=tuple(StrategyLock.objects.engaged().prefetch_related("connectors", "firearms")),
        skills_taken=taken,
    )


def _policy_ids_exist(policy, found, reads):
    firearms = _as_dict(policy.get("firearms"))
    kpis = _as_dict(policy.get("kpis"))
    for name, value in firearms.items():
        if isinstance(value, str) and value not in reads.firearms:
            found.append(
                finding(
                    f"policy_snapshot.firearms.{name}",
                    f"Firearm {value!r} does not exist.",
                    code="unknown_firearm",
                )
            )
    for name, value in kpis.items():
        for kpi in _as_list(value):
            if isinstance(kpi, str) and kpi not in reads.kpis:
                found.append(
                    finding(
                        f"policy_snapshot.kpis.{name}", f"KPI {kpi!r} does not exist.", code="unknown_kpi"
                    )
                )


def _registry_state(connector_id, spec, scope_names, firearms, found, reads):
    version = spec.get("version")
    latest = reads.latest.get(connector_id)
    if latest is not None and semver.parse(version) and semver.parse(version) <= semver.parse(latest):
        found.append(
            finding(
                "spec_snapshot.version",
                f"Version {version} is not above the latest published version {latest}.",
                code="version_not_above_published",
            )
        )
    for lock in reads.locks:
        if lock.covers(connector_id=connector_id):
            found.append(
                finding(
                    "connector_id",
                    f"Strategy lock {lock.name!r} is engaged on connector {connector_id!r}: {lock.reason}",
                    code="lock_conflict",
                )
            )
        for name in scope_names:
            action = f"{connector_id}:{name}"
            if lock.covers(action_name=action):
                found.append(
                    finding(
                        f"spec_snapshot.scopes.{name}",
                        f"Strategy lock {lock.name!r} is engaged on {action}: {lock.reason}",
                        code="lock_conflict",
                    )
                )
            firearm_id = firearms.get(name)
            if isinstance(firearm_id, str) and lock.covers(firearm_id=firearm_id):
                found.append(
                    finding(
                        f"policy_snapshot.firearms.{name}",
                        f"Strategy lock {lock.name!r} is engaged on firearm {firearm_id}: {lock.reason}",
                        code="lock_conflict",
                    )
                )


def _skills_owned(connector_id, spec, found):
    """A connector's skills are named under its id (`github.getting-started`): connector ids hold no
    dot, so no other connector can publish (or squat a version of) them, and none is a connector id."""
    for index, skill in enumerate(named(spec.get("skills"), "spec_id")):
        if not str(skill["spec_id"]).startswith(f"{connector_id}."):
            found.append(
                finding(
                    f"spec_snapshot.skills[{index}].spec_id",
                    f"A skill of {connector_id} is named {connector_id}.<name>, not {skill['spec_id']!r}.",
                    code="skill_not_owned",
                )
            )


def _skills_free(spec, found, reads):
    version = spec.get("version")
    if not isinstance(version, str):
        return
    named_skills = {skill["spec_id"] for skill in named(spec.get("skills"), "spec_id")}
    for spec_id in sorted(spec_id for spec_id in named_skills if (spec_id, version) in reads.skills_taken):
        found.append(
            finding(
                "spec_snapshot.skills",
                f"Skill {spec_id}@{version} is already published.",
                code="skill_version_taken",
            )
        )


def check_registry_state(*, connector_id, spec, policy, tenant_id=None, reads=None):
    """Findings that depend on the live registries: firearm and KPI ids exist, the version is above the
    latest published, no engaged lock covers it, its skills are its own and free, and (given the draft's
    tenant) the connector is that tenant's. Publish re-runs these at commit time; the content itself was
    validated at this very revision. `reads`: the registries as `registry_reads` read them for several
    drafts at once (read here for this one otherwise)."""
    spec, policy = _as_dict(spec), _as_dict(policy)
    if reads is None:
        reads = registry_reads([(connector_id, spec, policy)])
    found = []
    if tenant_id is not None:
        _owned(connector_id, tenant_id, found)
    scope_names = [scope["name"] for scope in named(spec.get("scopes"))]
    _policy_ids_exist(policy, found, reads)
    _registry_state(connector_id, spec, scope_names, _as_dict(policy.get("firearms")), found, reads)
    _skills_owned(connector_id, spec, found)
    _skills_free(spec, found, reads)
    return found


def _owned(connector_id, tenant_id, found):
    owner = Connector.objects.filter(connector_id=connector_id).values_list("owner__slug", "owner_id").first()
    if owner is not None and owner[1] != tenant_id:
        found.append(
            finding(
                "connector_id",
                f"Connector {connector_id} belongs to tenant {owner[0]!r}: publish would be refused.",
                code="not_connector_owner",
            )
        )
