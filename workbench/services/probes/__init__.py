"""Sandbox probes (README "Sandbox probes"): request one (import from a package, or check a draft), run it
in the background, store what the server serves; mark lost ones failed. Every refusal is a
`workbench.kit.refusals.Refusal`."""

from .comparing import compare_tools
from .recovery import probes_fail_overdue
from .requesting import probe_request_check, probe_request_import
from .running import probe_claim, probe_run, probe_store, run_probe_task

__all__ = [
    "compare_tools",
    "probe_claim",
    "probe_request_check",
    "probe_request_import",
    "probe_run",
    "probe_store",
    "probes_fail_overdue",
    "run_probe_task",
]
