"""Differences between two states of a draft (or a draft and the live connector), field by field, and
the risk flags of publishing it. See `entries` (the entries), `details` (inside a changed object) and
`risk` (the publish confirmation's flags)."""

from .entries import NOT_DECIDED, diff_states, draft_diff_against_live
from .restoring import restored_spec
from .risk import active_grant_counts, live_snapshots, publish_risk_flags, publish_risk_flags_of

__all__ = [
    "NOT_DECIDED",
    "active_grant_counts",
    "diff_states",
    "draft_diff_against_live",
    "live_snapshots",
    "publish_risk_flags",
    "publish_risk_flags_of",
    "restored_spec",
]
