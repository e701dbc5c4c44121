from . import accounts, audit, drafts, exchange, probes, tenants  # noqa: F401
