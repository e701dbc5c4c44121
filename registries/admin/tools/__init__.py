"""Admin for the tool registry: tools (schemas shown as pretty JSON, coverage per tool), import and
export of tools.registry.json (upload, preview, confirm), the coverage report, "try this tool" (the
gateway's one invoke service), receipts, the permission vocabulary and the tools' domain tables.

Importing this package imports every submodule, which registers their ModelAdmins."""

from registries.admin.tools.domain import (
    BoundaryAdmin,
    DomainRowAdmin,
    LeadAdmin,
    MediaAssetAdmin,
    MemoryAdmin,
    PatternScoreAdmin,
    TaskAdmin,
)
from registries.admin.tools.forms import (
    PrettyJSONField,
    RegistryUploadForm,
    TryToolForm,
    example_input,
    pretty,
)
from registries.admin.tools.pages import TEMPLATES, ToolPagesMixin, coverage_text
from registries.admin.tools.receipts import ToolReceiptAdmin, ToolRegistryImportAdmin
from registries.admin.tools.registry import CoverageFilter, ToolDefinitionAdmin, ToolPermissionAdmin

__all__ = [
    "TEMPLATES",
    "BoundaryAdmin",
    "CoverageFilter",
    "DomainRowAdmin",
    "LeadAdmin",
    "MediaAssetAdmin",
    "MemoryAdmin",
    "PatternScoreAdmin",
    "PrettyJSONField",
    "RegistryUploadForm",
    "TaskAdmin",
    "ToolDefinitionAdmin",
    "ToolPagesMixin",
    "ToolPermissionAdmin",
    "ToolReceiptAdmin",
    "ToolRegistryImportAdmin",
    "TryToolForm",
    "coverage_text",
    "example_input",
    "pretty",
]
