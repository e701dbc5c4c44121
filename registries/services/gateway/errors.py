"""Refusals a handler may raise, and the gateway's own problem codes."""

from workbench.kit.refusals import Refusal


class ToolError(Refusal):
    """A handler's refusal the caller should see, e.g. ToolError(409, "already_exists", "..."): the
    gateway closes the call's receipt as failed, then passes the refusal on."""


class ToolTimeout(Exception):
    """The handler overran the tool's timeout_ms; its database work is rolled back."""


class CallTakenOver(Exception):
    """The call ran past its deadline and another caller took its slot over; this run is rolled back."""
