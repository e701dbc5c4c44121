from . import accounts, drafts, exchange, tenants  # noqa: F401
