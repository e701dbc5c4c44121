"""Asking for a probe: the row is written (queued) and its background task enqueued in the same
transaction (django-tasks-db) or once it commits (other backends), so a worker never looks for a probe
that is not there yet, and a request that fails queues nothing."""

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from workbench.kit import identifiers as ids
from workbench.kit.refusals import Refusal, field_error
from workbench.models import Probe
from workbench.selectors.drafts import tenants_of
from workbench.services.drafts.revisions import check_connector_owner, lock_draft_for_change, not_a_writer

from .recovery import database_backend
from .targets import check_package, local_file_allowed, target_of_packaging

logger = logging.getLogger(__name__)
ENQUEUE_FAILED = "The probe could not be handed to a worker ({error}); start it again."


def _enqueue(probe):
    """Hand the probe to the task backend. With django-tasks-db (the project's backend) the task row is
    written inside this transaction, on the same database: it commits with the probe row or not at all,
    so no probe waits for a task that was never written, and a worker cannot see the task before the
    probe. A backend that keeps no rows there (the tests' immediate one, which runs the task at once) is
    called once the probe commits, and a failure to enqueue then fails the probe with the reason (the
    client already has its 202)."""
    from .running import run_probe_task

    probe_id = probe.pk
    if database_backend() is not None:
        try:
            with transaction.atomic():
                run_probe_task.enqueue(probe_id)
        except DatabaseError as error:
            logger.exception("probe %s: enqueueing its task failed", probe_id)
            raise Refusal(
                503, "probe_queue_unavailable", f"The probe could not be queued: {type(error).__name__}."
            ) from None
        return
    transaction.on_commit(lambda: _enqueue_committed(probe_id))


def _enqueue_committed(probe_id):
    from .running import run_probe_task

    try:
        run_probe_task.enqueue(probe_id)
    except Exception as error:  # whatever the backend raises, the probe must end rather than wait forever
        logger.exception("probe %s: enqueueing its task failed", probe_id)
        Probe.objects.filter(pk=probe_id, status=Probe.Status.QUEUED).update(
            status=Probe.Status.FAILED,
            reason=ENQUEUE_FAILED.format(error=type(error).__name__),
            finished_at=timezone.now(),
        )


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
