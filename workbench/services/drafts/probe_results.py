"""What validation says about sandbox probes: the findings of the newest finished probe of the revision
it checks (paths `probe.tools.<name>`), or a note that there is none. With WORKBENCH_REQUIRE_PROBE a
passing probe of the revision is a condition of validation passing, and so of publish, which needs a
passing validation of the current revision: admin, API and command all meet the one rule there.
Without the setting a probe informs and never blocks: its errors are shown as warnings."""

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
        found = [finding("probe", message, severity="error" if required else "info", code="no_probe")]
    elif probe.status != probe.Status.SUCCEEDED:
        message = f"The latest probe of revision {draft.revision} ({probe.pk}) failed: {probe.reason}"
        found = [finding("probe", message, severity="error" if required else "warning", code="probe_failed")]
    else:
        found = [dict(item) for item in probe.findings or []]
    for item in found:
        if not required and item["severity"] == "error":
            # Without the setting a probe informs and never blocks.
            item["severity"] = "warning"
        item["stage"] = STAGE
        item.setdefault("probe", probe.pk if probe is not None else None)
    return found
