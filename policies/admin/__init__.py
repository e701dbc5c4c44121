from . import budgets, firearms, kpis, locks  # noqa: F401
