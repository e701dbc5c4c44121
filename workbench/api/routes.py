"""Workbench endpoints under /api/v1/ (drafts, receipts, exports): (prefix, viewset, basename) per line."""

from workbench.api.drafts import DraftViewSet

ROUTES = [
    ("drafts", DraftViewSet, "draft"),
]
