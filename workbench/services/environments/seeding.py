"""The two seed steps that are not plain fixtures: the tool registry and the example connectors.

The tool registry goes through the registry import (validate every tool, then write). Example
connectors go through the real publish path: a draft is created by the seed publisher in the
workbench tenant at `definition`, moved through scoping and policy to verification one save at a
time, validated and published, exactly as staff would; nothing is inserted behind it.
A connector version that is already published is compared with its seed and left alone when equal;
a difference means the seed changed without a version bump, which is refused, unless it is exactly
one of the listed seed corrections (corrections.py), which is then applied and recorded.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from registries.models import ComponentSpec
from registries.services.tool_registry import RegistryImportError, tool_registry_import
from workbench.kit import semver
from workbench.kit.access import SYSTEM
from workbench.kit.refusals import Refusal
from workbench.models import Tenant, WorkbenchDraft
from workbench.models.drafts import STAGE_PATH
from workbench.selectors.drafts import latest_published_connector_spec, live_connector_snapshot
from workbench.services.drafts import draft_create, draft_publish, draft_update, draft_validate
from workbench.services.drafts.card import normalized_policy, normalized_spec

from .corrections import seed_connector_correct, seed_correction_for

SEED_TENANT = settings.WORKBENCH_PLATFORM_TENANT
SEED_PUBLISHER = "workbench-seeds"


def load_tool_registry(path, *, report, reason):
    """Import tools.registry.json unless the registry already equals it."""
    from registries.models import ToolRegistryImport

    content = Path(path).read_bytes()
    try:
        plan = tool_registry_import(content=content, user=SYSTEM, dry_run=True)
    except RegistryImportError as exc:
        raise ValidationError(exc.plan.errors) from None
    latest = ToolRegistryImport.objects.order_by("-pk").values_list("version", flat=True).first()
    changed = plan.created or plan.updated or plan.removed or latest != plan.version
    for action, names in (
        ("created", plan.created),
        ("updated", plan.updated),
        ("unchanged", plan.unchanged),
    ):
        for _ in names:
            report.count("registries.tooldefinition", action)
    for _ in plan.removed:
        report.count("registries.tooldefinition", "deleted")
    if not changed:
        return
    tool_registry_import(content=content, user=SYSTEM, source=f"{Path(path).name} ({reason})")
    for name in plan.created:
        report.add_change("registries.tooldefinition", (name,), "created")
    for name in plan.updated:
        report.add_change("registries.tooldefinition", (name,), "updated")
    for name in plan.removed:
        report.add_change("registries.tooldefinition", (name,), "deleted")
    if not (plan.created or plan.updated or plan.removed):
        report.add_change("registries.toolregistryimport", (plan.version,), "created")


def _read_connector_seed(path):
    try:
        seed = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"cannot read JSON: {exc}") from None
    missing = [key for key in ("connector_id", "spec_snapshot", "policy_snapshot") if key not in seed]
    if missing:
        raise ValidationError({key: "required in a connector seed" for key in missing})
    return seed


def _corrected(connector_id, version, published, spec, policy, *, report):
    """Apply the listed seed correction from exactly this published content to exactly this seed, if
    there is one (corrections.py says which and why); False when the difference is not one of them."""
    correction = seed_correction_for(
        connector_id=connector_id, version=version, published_spec=published.schema, spec=spec, policy=policy
    )
    if correction is None:
        return False
    try:
        seed_connector_correct(
            correction=correction,
            spec=spec,
            policy=policy,
            user=get_user_model().objects.get(username=SEED_PUBLISHER),
            tenant_id=Tenant.objects.get(slug=SEED_TENANT).pk,
        )
    except Refusal as refusal:
        raise ValidationError(refusal.message) from None
    report.count("registries.connector", "updated")
    report.add_change("registries.connector", (connector_id, version), "corrected")
    return True


def publish_seed_connector(path, *, report, reason):
    """Publish one example connector through draft -> validate -> publish, unless already live."""
    seed = _read_connector_seed(path)
    connector_id = seed["connector_id"]
    spec = normalized_spec(seed["spec_snapshot"], connector_id)
    policy = normalized_policy(seed["policy_snapshot"])
    version = spec.get("version", "")
    published = ComponentSpec.objects.filter(spec_id=connector_id, version=version).first()
    if published is not None:
        if published.schema != spec:
            if _corrected(connector_id, version, published, spec, policy, report=report):
                return
            raise ValidationError(
                {
                    "spec_snapshot": f"{connector_id} {version} is published with other content; "
                    "bump the version in the seed to publish a change."
                }
            )
        latest = latest_published_connector_spec(connector_id)
        if latest and latest.version == version and live_connector_snapshot(connector_id)[1] != policy:
            raise ValidationError(
                {
                    "policy_snapshot": f"{connector_id} {version} is live with other firearm or KPI "
                    "decisions; bump the version in the seed to publish a change."
                }
            )
        report.count("registries.connector", "unchanged")
        return
    latest = latest_published_connector_spec(connector_id)
    if latest and semver.parse(latest.version) > semver.parse(version):
        # A later version was published since (through a draft): the seed is history, not drift.
        report.count("registries.connector", "unchanged")
        return

    publisher = get_user_model().objects.get(username=SEED_PUBLISHER)
    tenant = Tenant.objects.get(slug=SEED_TENANT)
    try:
        draft = draft_create(
            tenant=tenant,
            user=publisher,
            connector_id=connector_id,
            spec_snapshot=spec,
            policy_snapshot=policy,
            stage=WorkbenchDraft.Stage.DEFINITION,
            reason=reason,
        )
        for stage in STAGE_PATH[1:]:
            draft = draft_update(
                draft_id=draft.pk,
                user=publisher,
                base_revision=draft.revision,
                changes={"stage": stage},
                reason=f"{reason}: {stage}",
            )
        draft = draft_validate(draft_id=draft.pk, user=publisher)
        if not draft.validation_passed:
            raise ValidationError(
                [
                    f"{f['path']}: {f['message']}"
                    for f in draft.validation_findings
                    if f.get("severity") == "error"
                ]
            )
        draft_publish(draft_id=draft.pk, user=publisher, review_waived="seeds are reviewed as code")
    except Refusal as refusal:
        raise ValidationError(refusal.message) from None
    report.count("registries.connector", "updated" if latest else "created")
    report.add_change("registries.connector", (connector_id, version), "published")
