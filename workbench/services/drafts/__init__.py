"""Draft services: create, save (compare-and-set on the revision), restore, validate, publish, import.
Every refusal is a `workbench.kit.refusals.Refusal`."""

from .card import restore_stage
from .mcp_import import draft_import_mcp, parse_tools_list, propose_scopes
from .publish import PUBLISH_PERMISSION, draft_publish, draft_published, publish_forecast
from .revisions import draft_create, draft_restore, draft_update, restore_changes
from .server_json_import import draft_import_server_json
from .validation import check_draft_content, draft_validate

__all__ = [
    "PUBLISH_PERMISSION",
    "check_draft_content",
    "draft_create",
    "draft_import_mcp",
    "draft_import_server_json",
    "draft_publish",
    "draft_published",
    "draft_restore",
    "draft_update",
    "draft_validate",
    "parse_tools_list",
    "propose_scopes",
    "publish_forecast",
    "restore_changes",
    "restore_stage",
]
