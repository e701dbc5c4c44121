"""The tool registry (`tools.registry.json`, seed 002): the file is the single source of truth.

- `exchange`: import (the one write, and the one place a file is refused) and export, whole;
- `rules`: what a file may not do beyond its schema: change the keyed tools' list without meaning to,
  or name two tools that dispatch to the same handler;
- `coverage`: registry_coverage.md, real vs not_configured.
"""

from registries.services.tool_registry.coverage import CoverageRow, coverage_markdown, tool_coverage
from registries.services.tool_registry.exchange import (
    DEFAULT_VERSION,
    RegistryImportError,
    RegistryPlan,
    parse_registry,
    registry_plan,
    render_registry,
    tool_registry_export,
    tool_registry_export_text,
    tool_registry_import,
)
from registries.services.tool_registry.rules import SEED_KEYED_TOOLS, KeyChange, keyed_tools_list

__all__ = [
    "DEFAULT_VERSION",
    "SEED_KEYED_TOOLS",
    "CoverageRow",
    "KeyChange",
    "RegistryImportError",
    "RegistryPlan",
    "coverage_markdown",
    "keyed_tools_list",
    "parse_registry",
    "registry_plan",
    "render_registry",
    "tool_coverage",
    "tool_registry_export",
    "tool_registry_export_text",
    "tool_registry_import",
]
