"""The sandbox probe: install a real MCP server package (or take a local script or a remote URL), start
it isolated with bubblewrap, and read what it serves (initialize, then every tools/list page).

Django-free on purpose: the caller (workbench.services) passes every setting in. The interface:

    run_probe(target, *, limits=None, cache_dir, cache_cap_bytes=2 GiB, allow_unisolated=False,
              bwrap="bwrap", allow_private_urls=False) -> ProbeOutcome   # never raises for a failed probe
    validate_target(target)            # raises InvalidTarget(field, reason) for bad input, before queuing

Beyond the first brief: ProbeLimits.max_pages (tools/list pages before giving up), ProbeOutcome.cache_hit
(nothing was installed for this probe), run_probe's `bwrap` (the bubblewrap executable to use) and
`allow_private_urls` (a remote probe may reach loopback/private addresses: tests, local development).
"""

from .runner import run_probe
from .target import InvalidTarget, ProbeLimits, ProbeOutcome, ProbeTarget, validate_target

__all__ = ["InvalidTarget", "ProbeLimits", "ProbeOutcome", "ProbeTarget", "run_probe", "validate_target"]
