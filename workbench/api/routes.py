"""Workbench endpoints under /api/v1/ (drafts, coverage, exports): (prefix, viewset, basename) per line.

PATHS holds plain Django paths, for endpoints that are file names without a trailing slash."""

from django.urls import path

from workbench.api.coverage import CoverageViewSet
from workbench.api.drafts import DraftViewSet
from workbench.api.exports import (
    ConnectorsExportView,
    CoverageExportView,
    PolicyMatrixExportView,
    SecurityEventsExportView,
)
from workbench.api.probes import ProbeViewSet

ROUTES = [
    ("drafts", DraftViewSet, "draft"),
    ("coverage", CoverageViewSet, "coverage"),
    ("probes", ProbeViewSet, "probe"),
]

PATHS = [
    path("exports/connectors.tsv", ConnectorsExportView.as_view(), name="export-connectors"),
    path("exports/policy-matrix.tsv", PolicyMatrixExportView.as_view(), name="export-policy-matrix"),
    path("exports/coverage.tsv", CoverageExportView.as_view(), name="export-coverage"),
    path("exports/security-events.tsv", SecurityEventsExportView.as_view(), name="export-security-events"),
]
