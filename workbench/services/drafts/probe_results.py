"""What validation says about sandbox probes: the findings of the newest finished probe of the revision
it checks (paths `probe.tools["<name>"]…`), with their own severity: a served tool the draft does not
declare, or a declared one the server does not serve, is an error whether or not a probe is required, so
a revision that does not match its server fails validation; schema and annotation differences are
warnings. A failed probe (install failure, crash…) is a warning saying why, or a note when there is no
probe. WORKBENCH_REQUIRE_PROBE makes a passing probe required: no probe, or a failed one, is then an
error too (and publish checks the same again, selectors/publish_checks.py)."""

from django.conf import settings

from workbench.contract import finding
from workbench.selectors.probes import latest_check_of_revision

STAGE = "verification"


def probe_findings(draft):
    """Findings to join validation's for the draft's current revision (one query)."""
    probe = latest_check_of_revision(draft_id=draft.pk, revision=draft.revision)
    required = settings.WORKBENCH_REQUIRE_PROBE
    if probe is None:
        message = f"No probe of revision {draft.revision}: the tools it declares were not compared with "
        message += "what its server serves."
        if required:
            message += " A passing probe is required (WORKBENCH_REQUIRE_PROBE)."
        found = [finding("probe", message, severity="error" if required else "info", code="no_probe")]
    elif probe.status != probe.Status.SUCCEEDED:
        message = f"The latest probe of revision {draft.revision} ({probe.pk}) failed: {probe.reason}"
        if required:
            message += " A passing probe is required (WORKBENCH_REQUIRE_PROBE)."
        found = [finding("probe", message, severity="error" if required else "warning", code="probe_failed")]
    else:
        found = [dict(item) for item in probe.findings or [] if isinstance(item, dict)]
    for item in found:
        item["stage"] = STAGE
        item.setdefault("probe", probe.pk if probe is not None else None)
    return found
