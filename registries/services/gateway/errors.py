"""Refusals a handler may raise, and the gateway's own problem codes."""


class ToolError(Exception):
    """A handler's refusal the caller should see, e.g. ToolError(409, "already_exists", "...")."""

    def __init__(self, status, code, detail, *, errors=None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []


class ToolTimeout(Exception):
    """The handler overran the tool's timeout_ms; its database work is rolled back."""


class CallTakenOver(Exception):
    """The call ran past its deadline and another caller took its slot over; this run is rolled back."""
