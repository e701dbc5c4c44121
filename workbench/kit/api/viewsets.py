"""Base viewsets for the live registries and policies.

Identifiers in URLs may contain dots (`firearm.external_write`) or colons (`github:admin_write`),
so lookups accept anything up to the next slash. Deletes go through `row_delete`; a row other rows
still point at answers 409 `protected` (shaped by workbench.kit.api.errors), never a 500.
"""

from rest_framework import viewsets

from workbench.kit import access
from workbench.kit.api.schema import ProblemAutoSchema
from workbench.kit.api.serializers import request_change_reason
from workbench.kit.rows import row_delete

# Anything up to the next slash but control characters: a NUL or other control character in a lookup is
# no identifier (and PostgreSQL refuses a NUL in a query), so such a URL matches nothing: 404.
LOOKUP_ANY_SEGMENT = r"[^/\x00-\x1f\x7f]+"
# Numeric ids in ASCII digits only: int() would also take "١" or "²".
LOOKUP_NUMBER = r"[0-9]{1,18}"


class AccessMixin:
    """Rows this user may see, from the access table: a list shows the rows they may read; a detail or a
    write addresses rows they may read or write (the write itself is checked again by the service)."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return access.readable(self.request.user, queryset)
        return access.addressable(self.request.user, queryset)


class ReadOnlyRegistryViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """List and read; every write method answers 405 (published rows change only through drafts)."""

    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = ProblemAutoSchema()


class RowViewSet(AccessMixin, viewsets.ModelViewSet):
    """List, read, create, update and delete plain rows through the RowSaveSerializer write path."""

    lookup_value_regex = LOOKUP_ANY_SEGMENT
    schema = ProblemAutoSchema()

    def perform_destroy(self, instance):
        row_delete(instance=instance, user=self.request.user, reason=request_change_reason(self.request))
