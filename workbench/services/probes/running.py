"""Running a probe in the background: claim it (queued -> running, once), run the package outside any
transaction, then store the outcome in one transaction: for an import the draft it creates and the
probe's success together, for a check the findings against the revision it probed."""

import logging

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django_tasks import task

from workbench.kit import identifiers as ids
from workbench.kit.jsontext import unstorable_text
from workbench.kit.refusals import Refusal
from workbench.models import Probe
from workbench.models.probes import REASON_LIMIT, STDERR_TAIL_LIMIT
from workbench.selectors.drafts import draft_revision_record
from workbench.services.drafts.mcp_import import draft_import_mcp

from .comparing import compare_tools
from .recovery import probe_deadline
from .targets import local_file_allowed

logger = logging.getLogger(__name__)

TOOL_KEYS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations", "icons", "_meta")


@task()
def run_probe_task(probe_id):
    """The background task: one probe, start to end. Returns the probe's final status."""
    probe = probe_run(probe_id=probe_id)
    return probe.status if probe is not None else None


def probe_claim(*, probe_id):
    """queued -> running, under the probe's row lock: of two workers given the same probe, one gets it
    (the probe), the other None."""
    with transaction.atomic():
        probe = Probe.objects.select_for_update().filter(pk=probe_id).first()
        if probe is None or probe.status != Probe.Status.QUEUED:
            return None
        probe.status = Probe.Status.RUNNING
        probe.started_at = timezone.now()
        probe.deadline_at = probe_deadline(probe.started_at)
        probe.save(update_fields=["status", "started_at", "deadline_at"])
    return probe


def probe_run(*, probe_id):
    """Claim, run and store one probe; None when another worker has it (or it is gone)."""
    probe = probe_claim(probe_id=probe_id)
    if probe is None:
        return None
    try:
        outcome = outcome_of(probe)
    except Exception as error:  # the runner promises not to raise; a bug in it must not leave it running
        logger.exception("probe %s: the runner failed", probe_id)
        outcome = {"ok": False, "reason": f"The probe runner failed: {type(error).__name__}: {error}"}
    # The run may have taken minutes: a connection the database (or a proxy) closed meanwhile is dropped
    # here, as Django does between requests, rather than failing the store. Never inside a transaction
    # (a caller's, such as a test's): closing there would end it.
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()
    try:
        return probe_store(probe_id=probe_id, outcome=outcome)
    except Exception as error:  # rolled back whole; the probe must still end, not stay running
        logger.exception("probe %s: storing its outcome failed", probe_id)
        failed = {**outcome, "ok": False, "reason": f"Storing the outcome failed: {type(error).__name__}."}
        return probe_store(probe_id=probe_id, outcome=failed)


def outcome_of(probe):
    """Run the probe's target with the settings' limits (workbench.probing) and give its outcome as a dict."""
    from dataclasses import asdict

    from workbench.probing import ProbeLimits, ProbeTarget, run_probe

    if probe.registry_type == Probe.RegistryType.LOCAL and not local_file_allowed(probe.identifier):
        return {"ok": False, "reason": "A local file is probed only from the test suite's directories."}
    target = ProbeTarget(
        kind=probe.registry_type,
        identifier=probe.identifier,
        version=probe.version,
        url=probe.url,
        bin=probe.bin,
    )
    limits = ProbeLimits(
        install_seconds=settings.WORKBENCH_PROBE_INSTALL_SECONDS,
        run_seconds=settings.WORKBENCH_PROBE_RUN_SECONDS,
        memory_mb=settings.WORKBENCH_PROBE_MEMORY_MB,
    )
    outcome = run_probe(
        target,
        limits=limits,
        cache_dir=settings.WORKBENCH_PROBE_CACHE_DIR,
        cache_cap_bytes=settings.WORKBENCH_PROBE_CACHE_MB * 1024 * 1024,
        allow_unisolated=settings.WORKBENCH_PROBE_ALLOW_UNISOLATED,
    )
    return asdict(outcome)


def _text(value, limit):
    text = value if isinstance(value, str) else ""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[-limit:] if limit == STDERR_TAIL_LIMIT else text[:limit]


def _tools(outcome):
    tools = outcome.get("tools")
    if not isinstance(tools, list):
        return []
    return [
        {key: tool[key] for key in TOOL_KEYS if tool.get(key) is not None}
        for tool in tools
        if isinstance(tool, dict)
    ]


def _fail(probe, reason):
    probe.status = Probe.Status.FAILED
    probe.reason = _text(reason, REASON_LIMIT)


def probe_store(*, probe_id, outcome):
    """Store a run's outcome on the (still running) probe, in one transaction with what it makes: the draft
    of an import, the findings of a check. A probe no longer running (marked lost meanwhile) keeps its
    state. Returns the probe."""
    with transaction.atomic():
        probe = Probe.objects.select_for_update().filter(pk=probe_id).first()
        if probe is None or probe.status != Probe.Status.RUNNING:
            return probe
        tools = _tools(outcome)
        probe.server_name = _text(outcome.get("server_name"), 200)
        probe.server_version = _text(outcome.get("server_version"), 100)
        probe.protocol_version = _text(outcome.get("protocol_version"), 40)
        probe.stderr_tail = _text(outcome.get("stderr_tail"), STDERR_TAIL_LIMIT)
        probe.timing = outcome.get("timing") if isinstance(outcome.get("timing"), dict) else {}
        probe.isolated = outcome.get("isolated") if isinstance(outcome.get("isolated"), bool) else None
        probe.finished_at = timezone.now()
        if any(True for _ in unstorable_text(tools)):
            _fail(probe, "The server's tools/list holds text the database cannot store (a NUL character or "
                  "an unpaired surrogate).")
        elif not outcome.get("ok"):
            probe.tools = tools
            _fail(probe, outcome.get("reason") or "The probe failed and gave no reason.")
        else:
            probe.tools = tools
            probe.status = Probe.Status.SUCCEEDED
            probe.reason = ""
            if probe.kind == Probe.Kind.IMPORT:
                _create_draft(probe, tools)
            else:
                probe.findings = _check_findings(probe, tools)
        probe.save()
    return probe


def _packaging(probe):
    if probe.registry_type == Probe.RegistryType.LOCAL:
        # The contract has no registry for a file of the test suite: a check of the draft probes the
        # same file again, found through this probe (requesting.py).
        return {}
    packaging = {"registry_type": probe.registry_type, "identifier": probe.identifier}
    if probe.version:
        packaging["version"] = probe.version
    if probe.bin:
        packaging["bin"] = probe.bin
    packaging["transport"] = "stdio"
    return packaging


def _create_draft(probe, tools):
    """The import's draft, in a savepoint: refused (the connector became another tenant's, the user lost
    their role, a served tool is not a valid MCP tool), the probe fails with the reason and no draft."""
    version = probe.version if ids.validate_semver.regex.match(probe.version or "") else "1.0.0"
    try:
        with transaction.atomic():
            draft = draft_import_mcp(
                tenant=probe.tenant,
                user=probe.requested_by,
                connector_id=probe.connector_id,
                tools_list={"tools": tools},
                name=probe.server_name or probe.connector_id,
                version=version,
                packaging=_packaging(probe),
                reason=f"imported from {probe.target_label} (probe {probe.pk})",
            )
    except Refusal as refusal:
        _fail(probe, f"The draft was not created: {refusal.message}")
        return
    probe.created_draft = draft


def _check_findings(probe, tools):
    record = draft_revision_record(probe.draft, probe.draft_revision)
    declared = record.spec_snapshot.get("tools") if record and isinstance(record.spec_snapshot, dict) else []
    return compare_tools(declared, tools)
