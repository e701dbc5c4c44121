from . import accounts, drafts, exchange, probes, tenants  # noqa: F401
