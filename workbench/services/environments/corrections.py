"""Seed corrections: a published connector version rewritten in place, on purpose, because a seed once
shipped it with content its source document does not show, under the version that document requires.

Published versions are write-once, and the loader refuses a seed whose version is published with other
content ("bump the version"). A correction is the one deliberate exception, and it is narrow: it is
listed below with the digest of exactly the content that was shipped and the digest of exactly the
content that replaces it, so any other difference (a database edited by hand, a seed edited again
without a version bump) is still refused as before. It is one transaction that leaves who and why on
every history row it writes, and on the corrected spec's metadata (specs keep no history of their own).
"""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from registries.models import ComponentSpec, Connector, Scope
from workbench.contract import declared_entitlements
from workbench.kit.refusals import Refusal
from workbench.kit.rows import mark_history
from workbench.selectors.drafts import live_connector_snapshot
from workbench.services.drafts.bindings import _write_firearm_bindings, _write_kpi_bindings
from workbench.services.drafts.validation import check_draft_content, passes


def content_sha256(value):
    """The digest of JSON content, independent of key order and whitespace."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SeedCorrection:
    connector_id: str
    version: str
    shipped_spec_sha256: str  # the published spec as the shipped seed published it (normalized)
    shipped_policy_sha256: str  # the live firearm and KPI decisions that seed left
    seed_spec_sha256: str  # the seed's spec now (normalized)
    seed_policy_sha256: str  # the seed's policy now (normalized)
    reason: str


SEED_CORRECTIONS = (
    # Until d41215e, seeds/connectors/github.json (added in 7d32b94, unchanged until then) shipped
    # github 1.2.0 with three scopes (write_issues as well) and admin_write bound to
    # firearm.destructive_op. Seed 001 §3 shows github 1.2.0 with two scopes, admin_write ->
    # firearm.external_write and read_public -> NONE, and requires that version, so the seed was fixed
    # without a bump. Every database loaded before holds the old content; these digests recognise it
    # (tests/workbench/old_seeds/github-1.2.0-f3531dc.json is that file) and the seed it becomes.
    SeedCorrection(
        connector_id="github",
        version="1.2.0",
        shipped_spec_sha256="4765eb3319e624fd31fb1329b990e4432916821ad99b5b3b5ea063341105cb6a",
        shipped_policy_sha256="2eae4b3a6083142a46df378d41275c3be0dd79b8f5c257b5013144c5770c4c4c",
        seed_spec_sha256="01dfd5df57c6b9decd67bf23c1d6a91d309f053567aa86717f4773e0801aeccb",
        seed_policy_sha256="79aad0a3db21346b82993ba6a5247f019a35e463c98817c02c27c334fd4c4062",
        reason="seed correction: github 1.2.0 as seed 001 §3 shows it",
    ),
)


def seed_correction_for(*, connector_id, version, published_spec, spec, policy):
    """The listed correction from exactly `published_spec` to exactly this seed (`spec`, `policy`, both
    normalized), or None: then the difference is not a known correction and stays refused."""
    for correction in SEED_CORRECTIONS:
        if (
            (correction.connector_id, correction.version) == (connector_id, version)
            and content_sha256(published_spec) == correction.shipped_spec_sha256
            and content_sha256(spec) == correction.seed_spec_sha256
            and content_sha256(policy) == correction.seed_policy_sha256
        ):
            return correction
    return None


@dataclass(frozen=True)
class _Corrected:
    """What publish's own binding writers read from a draft, for the corrected content: a correction
    sets bindings exactly as a publish would."""

    connector_id: str
    spec_snapshot: dict
    policy_snapshot: dict
    pk: None = None


def _refuse(correction, why):
    return Refusal(
        409,
        "not_correctable",
        f"{correction.connector_id} {correction.version} cannot be corrected to its seed: {why}; "
        "nothing was changed.",
    )


def _correct_spec(published, spec, correction, now, removed_scopes):
    metadata = dict(published.metadata or {})
    metadata["packaging"] = spec.get("packaging") or {}
    metadata["portability"] = spec.get("portability") or {}
    metadata.pop("entitlements", None)
    if declared_entitlements(spec):
        metadata["entitlements"] = declared_entitlements(spec)
    # Kept beside the content, since a spec row has no history: what was replaced, when and why.
    metadata["seed_correction"] = {
        "reason": correction.reason,
        "corrected_at": now.isoformat(),
        "replaced_spec_sha256": correction.shipped_spec_sha256,
        "removed_scopes": sorted(removed_scopes),
    }
    published.name = spec.get("name", "")
    published.description = spec.get("description", "")
    published.schema = spec
    published.metadata = metadata
    published.save_correction(
        reason=correction.reason,
        update_fields=["name", "description", "schema", "metadata"],
        clean_exclude=["published_by"],
    )


def _correct_scopes(published, connector, spec, correction):
    stored = {scope.name: scope for scope in Scope.objects.filter(spec=published)}
    wanted = {item["name"]: item for item in spec.get("scopes") or []}
    for name in sorted(set(stored) - set(wanted)):
        stored[name].delete_correction(reason=correction.reason)
    for name, item in wanted.items():
        description, tools = item.get("description", ""), list(item.get("tools") or [])
        scope = stored.get(name)
        if scope is None:
            scope = Scope(
                spec=published, connector=connector, name=name, description=description, tools=tools
            )
            scope.full_clean(validate_constraints=False)
            scope.save()
        elif (scope.description, scope.tools) != (description, tools):
            scope.description, scope.tools = description, tools
            scope.save_correction(reason=correction.reason, update_fields=["description", "tools"])


def seed_connector_correct(*, correction, spec, policy, user, tenant_id):
    """Apply `correction`: the published version takes the seed's `spec`, its scopes follow, and (when
    it is the connector's latest version) the live firearm and KPI bindings become the seed's `policy`,
    written as publish writes them (a dropped scope's bindings removed), with the correction's reason on
    each history row. Refusals (409 `not_correctable`, nothing written): the published content or, for
    the latest version, the live decisions are no longer exactly what the shipped seed left (checked
    under the connector's row lock), or the seed's content does not validate."""
    connector_id, version = correction.connector_id, correction.version
    with transaction.atomic():
        connector = Connector.objects.select_for_update().filter(connector_id=connector_id).first()
        published = (
            ComponentSpec.objects.select_for_update().filter(spec_id=connector_id, version=version).first()
        )
        if connector is None or published is None:
            raise _refuse(correction, "it is not published")
        if content_sha256(published.schema) != correction.shipped_spec_sha256:
            raise _refuse(correction, "its published content is not the shipped seed's")
        is_latest = connector.latest_spec_id == published.pk
        if is_latest and content_sha256(live_connector_snapshot(connector_id)[1]) != (
            correction.shipped_policy_sha256
        ):
            raise _refuse(correction, "its live firearm or KPI decisions are not the shipped seed's")
        findings = [
            item
            for item in check_draft_content(
                connector_id=connector_id, spec=spec, policy=policy, tenant_id=tenant_id
            )
            # The version is the published one by design: that is what a correction is.
            if item.get("code") != "version_not_above_published"
        ]
        if not passes(findings):
            errors = [f"{f['path']}: {f['message']}" for f in findings if f["severity"] == "error"]
            raise _refuse(correction, "the seed does not validate (" + "; ".join(errors[:3]) + ")")

        now = timezone.now()
        previous = set(Scope.objects.filter(spec=published).values_list("name", flat=True))
        removed = previous - {item["name"] for item in spec.get("scopes") or []}
        dropped = {f"{connector_id}:{name}" for name in removed}
        _correct_spec(published, spec, correction, now, removed)
        _correct_scopes(published, connector, spec, correction)
        if is_latest:
            # A later version's bindings are that version's: only the live version's are corrected.
            corrected = _Corrected(connector_id, spec, policy)
            _write_firearm_bindings(corrected, user, now, dropped, reason=correction.reason)
            _write_kpi_bindings(corrected, user, now, dropped, reason=correction.reason)
            connector.name = spec.get("name") or connector.name
            connector.description = spec.get("description", connector.description)
        connector.full_clean(exclude=["latest_spec"], validate_unique=False)
        # The connector's history row is where the correction shows as one event, with who and why.
        mark_history(connector, user=user, reason=correction.reason)
        connector.save()
    return published
