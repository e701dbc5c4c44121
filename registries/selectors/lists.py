"""The list pages' rows: connectors and scopes without their versions' JSON."""

from django.db.models import OuterRef

from registries.models import Connector, Scope
from workbench.kit.queries import SubqueryCount


def latest_scope_count():
    """Scopes of each connector's latest version, counted per row (an expression for `annotate`)."""
    scopes = Scope.objects.filter(connector_id=OuterRef("pk"), spec_id=OuterRef("latest_spec_id"))
    return SubqueryCount(scopes)


def connectors_listed():
    """Connectors with their owner's slug, their latest version's version, publish and deprecation dates and
    `scope_count`: the latest version's JSON (schema, metadata) is not read."""
    return (
        Connector.objects.select_related("latest_spec", "owner")
        .only(
            "connector_id", "name", "description", "created_at", "owner__slug",
            "latest_spec__version", "latest_spec__published_at", "latest_spec__deprecated_at",
        )
        .annotate(scope_count=latest_scope_count())
    )


def scopes_listed():
    """Scopes with their connector's id and their version, without the version's JSON."""
    return Scope.objects.select_related("connector", "spec").only(
        "name", "description", "tools", "connector__connector_id", "spec__version",
    )
