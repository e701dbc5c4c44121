from . import drafts, kit, tenants  # noqa: F401
