"""Base viewsets for the live registries and policies.

Identifiers in URLs may contain dots (`firearm.external_write`) or colons (`github:admin_write`),
so lookups accept anything up to the next slash. Deletes go through `row_delete`; a row other rows
still point at answers 409 `protected` (shaped by workbench.kit.api.errors), never a 500.
"""

from rest_framework import viewsets

from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.api.serializers import request_change_reason
from workbench.kit.rows import row_delete

LOOKUP_ANY_SEGMENT = r"[^/]+"


class ReadOnlyRegistryViewSet(viewsets.ReadOnlyModelViewSet):
    """List and read; every write method answers 405 (published rows change only through drafts)."""

    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = ProblemAutoSchema()


class RowViewSet(viewsets.ModelViewSet):
    """List, read, create, update and delete plain rows through the RowSaveSerializer write path."""

    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = ProblemAutoSchema()

    def perform_destroy(self, instance):
        row_delete(instance=instance, reason=request_change_reason(self.request))
