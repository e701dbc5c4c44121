"""Asking for a probe: the row is written (queued) and the background task enqueued once it commits, so
a worker never looks for a probe that is not there yet, and a request that fails queues nothing."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from workbench.kit import identifiers as ids
from workbench.kit.refusals import Refusal, field_error
from workbench.models import Probe
from workbench.selectors.drafts import tenants_of
from workbench.services.drafts.revisions import check_connector_owner, lock_draft_for_change, not_a_writer

from .targets import check_package, local_file_allowed, target_of_packaging

#: Past its install and run limits, a running probe gets this long to store its outcome before it is
#: taken for lost with its worker.
DEADLINE_GRACE = timedelta(seconds=60)


def probe_deadline(started_at):
    limits = settings.WORKBENCH_PROBE_INSTALL_SECONDS + settings.WORKBENCH_PROBE_RUN_SECONDS
    return started_at + timedelta(seconds=limits) + DEADLINE_GRACE


def _enqueue(probe):
    from .running import run_probe_task

    probe_id = probe.pk
    transaction.on_commit(lambda: run_probe_task.enqueue(probe_id))


def probe_request_import(*, user, tenant, connector_id, registry_type, identifier, version, bin=""):
    """Queue a probe of a package that, once it succeeds, creates a draft of `connector_id` in `tenant`
    from the tools the server serves. Refusals: 400 for a package not named exactly, 403 unless the user
    owns or edits drafts in the tenant (or when the connector is another tenant's)."""
    if not isinstance(connector_id, str) or not ids.validate_connector_id.regex.match(connector_id):
        message = "Enter a connector id: lower-case letters, digits, hyphens, e.g. 'time'."
        raise Refusal.invalid([field_error("connector_id", "invalid_identifier", message)])
    if registry_type == Probe.RegistryType.LOCAL:
        # The test suite's servers (WORKBENCH_PROBE_LOCAL_PATHS, empty in production).
        if not local_file_allowed(identifier):
            message = "A local file is probed only from the directories the test suite configures."
            raise Refusal.invalid([field_error("identifier", "not_allowed", message)])
    else:
        check_package(registry_type, identifier, version, bin or "")
    with transaction.atomic():
        if not tenants_of(user, writable=True).filter(pk=tenant.pk).exists():
            raise not_a_writer()
        check_connector_owner(connector_id=connector_id, tenant_id=tenant.pk)
        probe = Probe.objects.create(
            tenant=tenant,
            requested_by=user,
            kind=Probe.Kind.IMPORT,
            registry_type=registry_type,
            identifier=identifier,
            version=version,
            bin=bin or "",
            connector_id=connector_id,
        )
        _enqueue(probe)
    return probe


def _imported_from(draft):
    """The target of the probe a draft without packaging was imported from, if any (a local file of the
    test suite: the contract has no registry for one)."""
    probe = (
        Probe.objects.filter(created_draft=draft, kind=Probe.Kind.IMPORT)
        .values("registry_type", "identifier", "version", "url", "bin")
        .order_by("-created_at")
        .first()
    )
    if probe is None or (probe["registry_type"] == "local" and not local_file_allowed(probe["identifier"])):
        return None
    return probe


def probe_request_check(*, user, draft_id):
    """Queue a probe of the server the draft's current revision names (its packaging, or its first
    streamable-HTTP remote; without either, what it was imported from), to compare the tools it serves
    with the ones the revision declares. Refusals: 404 for a draft the user cannot read, 403 for one they
    cannot change, 400 when the draft names nothing to probe."""
    with transaction.atomic():
        draft = lock_draft_for_change(draft_id=draft_id, user=user)
        spec = draft.spec_snapshot if isinstance(draft.spec_snapshot, dict) else {}
        target = None
        if not spec.get("packaging") and not spec.get("remotes"):
            target = _imported_from(draft)
        target = target or target_of_packaging(spec.get("packaging"), spec.get("remotes"))
        probe = Probe.objects.create(
            tenant_id=draft.tenant_id,
            requested_by=user,
            kind=Probe.Kind.CHECK,
            connector_id=draft.connector_id,
            draft=draft,
            draft_revision=draft.revision,
            **target,
        )
        _enqueue(probe)
    return probe
