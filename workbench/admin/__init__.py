from . import drafts, exchange, tenants  # noqa: F401
