"""Publish: one transaction writes the connector version and its policy into every registry, then marks
the draft published. Any failure leaves every registry and the draft as they were.

Each write is its own step function (`_write_*`), called in order inside the transaction, so a failure
at any step is easy to reason about (and to inject in tests; the binding steps live in `bindings.py` and
are called through this module's names). Side effects run only after commit.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from registries.models import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope
from workbench.kit import semver
from workbench.kit.refusals import Refusal, field_error, validation_errors
from workbench.kit.rows import mark_history
from workbench.models import WorkbenchDraft
from workbench.selectors.publish_checks import (
    PUBLISH_PERMISSION,  # noqa: F401  (re-exported: the services' name for it)
    publish_permission_refusal,
    publish_refusals,
    publish_state_refusal,
)

from .bindings import _dropped_scope_actions, _write_firearm_bindings, _write_kpi_bindings
from .registry_state import check_registry_state, registry_reads
from .revisions import check_connector_owner, check_revision, lock_draft_for_change
from .validation import declared_entitlements, passes

logger = logging.getLogger(__name__)


# Sent after the publish transaction commits: sender=WorkbenchDraft, draft=..., spec=..., user=...
draft_published = Signal()


def _refuse_unless_publishable(draft, user, review_waived):
    # The rules live with the selector the confirmation page asks, so both say the same.
    refusal = publish_state_refusal(draft, user, review_waived=review_waived)
    if refusal is not None:
        raise refusal


def _recheck_against_registries(draft, reads=None):
    # The registries may have moved since validation (another version published, a lock engaged).
    findings = check_registry_state(
        connector_id=draft.connector_id, spec=draft.spec_snapshot, policy=draft.policy_snapshot, reads=reads
    )
    if not passes(findings):
        errors = [
            field_error(item["path"], item["code"], item["message"])
            for item in findings
            if item["severity"] == "error"
        ]
        conflict = any(
            item["code"] in ("version_not_above_published", "skill_version_taken") for item in findings
        )
        raise Refusal(
            409,
            "version_conflict" if conflict else "validation_outdated",
            "The live registries changed since validation: " + "; ".join(e["message"] for e in errors[:3]),
            errors=errors,
        )


def publish_forecast(drafts, user):
    """{draft pk: the Refusal publishing it would meet now, or None}, writing nothing: the preconditions
    (`publish_refusals`, the rules `draft_publish` itself applies) and then, for a draft that meets
    them, the same re-check against the live registries that publish makes. For the confirmation page;
    `draft_publish` decides again under its locks. A fixed number of queries, whatever the number of
    drafts: the registries are read once for all of them."""
    drafts = list(drafts)
    forecast = publish_refusals(drafts, user)
    rechecked = [draft for draft in drafts if forecast[draft.pk] is None]
    if rechecked:
        reads = registry_reads(
            [(draft.connector_id, draft.spec_snapshot, draft.policy_snapshot) for draft in rechecked]
        )
        for draft in rechecked:
            try:
                _recheck_against_registries(draft, reads)
            except Refusal as refusal:
                forecast[draft.pk] = refusal
    return forecast


def _insert(save, what):
    """Run one insert in a savepoint; a unique clash with a concurrent publish becomes a clear 409, and a
    value the database cannot store (a number out of its range) a clear refusal instead of a 500."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        raise Refusal(
            409, "version_conflict", f"{what} was published by someone else just now; nothing was written."
        ) from exc
    except (DataError, OverflowError) as exc:
        # Validation caps what it lets through (e.g. semver parts at 9 digits); this is the net for a
        # value that got past it anyway.
        raise Refusal(
            409,
            "value_out_of_range",
            f"{what} cannot be stored: a value is out of the database's range ({exc}); nothing was written.",
        ) from exc


def _content_refused(error):
    errors = validation_errors(error)
    return Refusal(
        409,
        "validation_outdated",
        "The registries refuse this content; validate the draft again and fix the findings: "
        + "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:3]),
        errors=errors,
    )


def _write_spec(draft, user, now):
    spec = draft.spec_snapshot
    version = spec["version"]
    if ComponentSpec.objects.filter(spec_id=draft.connector_id, version=version).exists():
        raise Refusal(
            409, "version_conflict", f"Version {version} of {draft.connector_id} is already published."
        )
    metadata = {
        "spec_class": MCP_CONNECTOR_CLASS,
        "packaging": spec.get("packaging") or {},
        "portability": spec.get("portability") or {},
        "draft_id": draft.pk,
        "draft_revision": draft.revision,
    }
    entitlements = declared_entitlements(spec)
    if entitlements:
        metadata["entitlements"] = entitlements
    component = ComponentSpec(
        spec_id=draft.connector_id,
        version=version,
        kind=ComponentSpec.Kind.COMPONENT,
        name=spec.get("name", ""),
        description=spec.get("description", ""),
        schema=spec,
        metadata=metadata,
        published_by=user,
        published_at=now,
    )
    # Uniqueness is the database's job here: a concurrent publish of the same version fails the insert.
    # The publisher is the caller: no lookup to learn that the user exists.
    component.full_clean(exclude=["published_by"], validate_unique=False, validate_constraints=False)
    return _insert(component.save, f"Version {version} of {draft.connector_id}") or component


def _write_connector(draft, component, connector):
    spec = draft.spec_snapshot
    if connector is None:
        connector = Connector(
            connector_id=draft.connector_id,
            name=spec.get("name") or draft.connector_id,
            description=spec.get("description", ""),
            latest_spec=component,
            owner_id=draft.tenant_id,
        )
        # Its spec was written a moment ago and its owner is the draft's tenant: no lookups for those.
        connector.full_clean(
            exclude=["latest_spec", "owner"], validate_unique=False, validate_constraints=False
        )
        _insert(connector.save, f"Connector {draft.connector_id}")
        return connector
    connector.latest_spec = component
    connector.name = spec.get("name") or connector.name
    connector.description = spec.get("description", connector.description)
    connector.full_clean(exclude=["latest_spec"], validate_unique=False)
    connector.save()
    return connector


def _write_scopes(draft, component, connector):
    scopes = [
        Scope(
            spec=component,
            connector=connector,
            name=item["name"],
            description=item.get("description", ""),
            tools=list(item.get("tools") or []),
        )
        for item in draft.spec_snapshot.get("scopes") or []
    ]
    for scope in scopes:
        # spec and connector were written a moment ago in this transaction and names were checked for
        # duplicates by validation; skipping those per-row lookups keeps publish at a fixed query count.
        scope.full_clean(exclude=["spec", "connector"], validate_unique=False, validate_constraints=False)
    return Scope.objects.bulk_create(scopes)


def _write_skills(draft, user, now):
    """The draft's skills become curriculum specs at the connector's version."""
    version = draft.spec_snapshot["version"]
    major, minor, patch = semver.parse(version)
    skills = [
        ComponentSpec(
            spec_id=item["spec_id"],
            version=version,
            kind=ComponentSpec.Kind.CURRICULUM,
            name=item["name"],
            description=item.get("description", ""),
            schema={},
            metadata={"markdown": item["markdown"], "connector_id": draft.connector_id},
            version_major=major,
            version_minor=minor,
            version_patch=patch,
            published_by=user,
            published_at=now,
        )
        for item in draft.spec_snapshot.get("skills") or []
    ]
    for skill in skills:
        skill.full_clean(exclude=["published_by"], validate_unique=False, validate_constraints=False)
    if skills:
        _insert(
            lambda: ComponentSpec.objects.bulk_create(skills), f"A skill of {draft.connector_id} {version}"
        )
    return skills


# What marking a draft published changes; the rest of the row is as it was read under its lock.
_PUBLISHED_FIELDS = ("status", "published_version", "published_spec", "published_at", "published_by")


def _mark_published(draft, component, user, now, review_waived):
    draft.status = WorkbenchDraft.Status.PUBLISHED
    draft.published_version = component.version
    draft.published_spec = component
    draft.published_at = now
    draft.published_by = user
    waived = f" (review waived: {review_waived})" if review_waived else ""
    # Only what changed is validated (its own values, no per-row lookups: the spec was written a moment
    # ago and the user is the caller; the status constraint is the database's) and written: the rest
    # of the row, its 36 KB snapshots included, was saved and validated before. The history row is
    # the whole draft, as any save writes it.
    try:
        draft.full_clean(
            exclude=[
                field.name
                for field in WorkbenchDraft._meta.concrete_fields
                if field.name not in _PUBLISHED_FIELDS or field.is_relation
            ],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        raise Refusal.from_validation_error(error) from error
    mark_history(draft, user=user, reason=f"published version {component.version}{waived}")
    draft.save(update_fields=_PUBLISHED_FIELDS)
    return draft


def _announce(draft, component, user):
    logger.info("Published %s %s from %s by %s", draft.connector_id, component.version, draft.pk, user)
    draft_published.send(sender=WorkbenchDraft, draft=draft, spec=component, user=user)


def draft_publish(*, draft_id, user, expected_revision=None, review_waived=""):
    """Publish the draft's current revision: spec version, connector, scopes, firearm and KPI bindings
    and skills, in one transaction. Refusals: 403 (permission, review), 404, 412 (the draft is no longer at
    `expected_revision`, checked under its row lock), 409 (already published,
    version taken, a concurrent publish), 409 (validation missing, failed or outdated, content the
    registries refuse, a value out of the database's range). Bindings of scopes the previous latest
    version had and this one drops are removed. A live connector is published only by its owning
    tenant (403 not_connector_owner, checked under the connector's row lock). Publish happens only
    from the `verification` stage (409 wrong_stage). `review_waived` (why) is
    for environment loads only: the seeds are reviewed as code; history says so."""
    denied = publish_permission_refusal(user)
    if denied is not None:
        raise denied
    with transaction.atomic():
        draft = lock_draft_for_change(draft_id=draft_id, user=user)
        check_revision(draft, expected_revision)
        _refuse_unless_publishable(draft, user, review_waived)
        # Publishes of the same connector queue up on its row; a new connector is guarded by unique keys.
        connector = Connector.objects.select_for_update().filter(connector_id=draft.connector_id).first()
        if connector is not None:
            check_connector_owner(
                connector_id=draft.connector_id, tenant_id=draft.tenant_id, owner_id=connector.owner_id
            )
        _recheck_against_registries(draft)
        now = timezone.now()
        dropped = _dropped_scope_actions(draft, connector)
        try:
            component = _write_spec(draft, user, now)
            connector = _write_connector(draft, component, connector)
            _write_scopes(draft, component, connector)
            _write_firearm_bindings(draft, user, now, dropped)
            _write_kpi_bindings(draft, user, now, dropped)
            _write_skills(draft, user, now)
            _mark_published(draft, component, user, now, review_waived)
        except ValidationError as exc:
            # Content the registries' models refuse although validation passed it (e.g. validated under
            # older, looser rules): a refusal naming the fields, never a 500 in the admin action.
            raise _content_refused(exc) from exc
        transaction.on_commit(lambda: _announce(draft, component, user))
    return draft
