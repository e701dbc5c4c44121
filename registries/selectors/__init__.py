"""Reads of the live registries that are more than a filter: the list pages' rows (lists) and the
server.json documents of published connector versions (server_json)."""

from registries.selectors.lists import connectors_listed, latest_scope_count, scopes_listed

__all__ = ["connectors_listed", "latest_scope_count", "scopes_listed"]
