"""Admin base every app's admin builds on; see `base` (write path, read-only registries, history,
reason pages) and `exchange` (TSV export and import mixins)."""

from .base import (
    AccessAdmin,
    AccessInline,
    HistoryAdmin,
    IdentityAdmin,
    IdentityInline,
    NoteAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    RowAdmin,
    ServiceErrorsAdmin,
    adopt,
    model_perm,
    page_context,
    pre,
    run_with_reason,
)

__all__ = [
    "AccessAdmin",
    "AccessInline",
    "HistoryAdmin",
    "IdentityAdmin",
    "IdentityInline",
    "NoteAdmin",
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "RowAdmin",
    "ServiceErrorsAdmin",
    "adopt",
    "model_perm",
    "page_context",
    "pre",
    "run_with_reason",
]
