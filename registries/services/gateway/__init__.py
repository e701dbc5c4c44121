"""The policy-enforcing tool gateway: dispatch, idempotency, timeouts, receipts. See README.md here."""

from .dispatch import Handler, handler_parts, resolve_handler
from .errors import ToolError
from .invoke import InvokeOutcome, ToolContext, input_errors, tool_invoke

__all__ = [
    "Handler",
    "InvokeOutcome",
    "ToolContext",
    "ToolError",
    "handler_parts",
    "input_errors",
    "resolve_handler",
    "tool_invoke",
]
