"""Identifier formats of PRODUCT.md section 3, shared by models, serializers and imports.

Each format is one regular expression used three ways: a field validator (clear message at
form/serializer level), a database check constraint (nothing bypasses it) and import checks.
"""

from django.core.validators import RegexValidator
from django.db.models import Q

CONNECTOR_ID = r"^[a-z][a-z0-9-]{1,62}$"
SCOPE_NAME = r"^[a-z][a-z0-9_]{0,62}$"
TOOL_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
SPEC_ID = r"^[a-z][a-z0-9._-]{1,127}$"
# Each part has at most 9 digits: the parts are stored as integers for semver ordering (32-bit on
# PostgreSQL), so a longer part would pass validation and then fail the insert.
SEMVER = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$"
FIREARM_ID = r"^firearm\.[a-z][a-z0-9_]{0,62}$"
KPI_ID = r"^kpi\.[a-z][a-z0-9_]{0,62}$"
SLUG = r"^[a-z][a-z0-9_-]{1,62}$"
ENGINE_ROUTE = r"^/([a-z0-9_-]+/)*([a-z0-9_-]+|\*)$"
# An action is a connector scope "<connector_id>:<scope>" or a registry tool "domain.method".
SCOPE_ACTION = r"^[a-z][a-z0-9-]{1,62}:[a-z][a-z0-9_]{0,62}$"
ACTION_NAME = r"^([a-z][a-z0-9-]{1,62}:[a-z][a-z0-9_]{0,62}|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$"


def _validator(pattern, what, example):
    return RegexValidator(
        pattern,
        message=f"Enter a valid {what}, for example {example!r} (pattern {pattern}).",
        code="invalid_identifier",
    )


validate_connector_id = _validator(
    CONNECTOR_ID, "connector id: lower-case letters, digits, hyphens", "github"
)
validate_scope_name = _validator(
    SCOPE_NAME, "scope name: lower-case letters, digits, underscores", "read_public"
)
validate_tool_name = _validator(TOOL_NAME, "tool name: two or more lower-case dotted parts", "leads.create")
validate_spec_id = _validator(SPEC_ID, "spec id", "github")
validate_semver = _validator(SEMVER, "version MAJOR.MINOR.PATCH (each part at most 9 digits)", "1.2.0")
validate_firearm_id = _validator(FIREARM_ID, "firearm id", "firearm.external_write")
validate_kpi_id = _validator(KPI_ID, "KPI id", "kpi.change_failure_rate")
validate_slug = _validator(SLUG, "identifier: lower-case letters, digits, '_' or '-'", "acme")
validate_engine_route = _validator(ENGINE_ROUTE, "engine route pattern", "/chat/*")
validate_action_name = _validator(
    ACTION_NAME, "action: '<connector_id>:<scope>' or a tool 'domain.method'", "github:admin_write"
)


def matches(field, pattern):
    """Q object for a database check constraint on an identifier format."""
    return Q(**{f"{field}__regex": pattern})
