"""Refusals a handler may raise, and the gateway's own problem codes."""

from workbench.api.errors import Problem


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


def budget_refusal(tool, state):
    """429 naming the budget a call of `tool` would overrun (state: a policies BudgetState)."""
    budget = state.budget
    return Problem(
        429,
        "budget_exhausted",
        f"Budget {budget.budget_id!r} is exhausted: {state.used.quantize(budget.limit)} of "
        f"{budget.limit} {budget.unit} used this {budget.period}; this call costs {tool.cost}.",
        budget=budget.budget_id,
    )
