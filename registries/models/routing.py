"""Routing Registry (resource_kind -> backend_type) and the engine routes connectors wrap."""

from django.db import models

from workbench.kit import identifiers as ids
from workbench.kit.models import NaturalKeyModel, free_text

from .specs import Connector


class RoutingConfig(NaturalKeyModel):
    NATURAL_KEY = ("resource_kind",)

    resource_kind = models.CharField(
        max_length=63,
        unique=True,
        validators=[ids.validate_slug],
        error_messages={"unique": "This resource kind is already routed."},
    )
    backend_type = models.CharField(
        max_length=100, help_text="Storage class, e.g. TabularStore or VersionedStore."
    )
    options = models.JSONField(default=dict, blank=True)
    description = free_text(blank=True)

    class Meta:
        verbose_name = "routing config"
        ordering = ["resource_kind"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("resource_kind", ids.SLUG),
                name="routingconfig_resource_kind_format",
                violation_error_message="Resource kind has an invalid format.",
            ),
        ]

    def __str__(self):
        return f"{self.resource_kind} -> {self.backend_type}"


class EngineRoute(NaturalKeyModel):
    """An engine route (e.g. /chat/*) and the connector that wraps it; feeds the coverage report."""

    NATURAL_KEY = ("pattern",)

    pattern = models.CharField(
        max_length=200,
        unique=True,
        validators=[ids.validate_engine_route],
        error_messages={"unique": "This engine route already exists."},
    )
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.SET_NULL, related_name="engine_routes"
    )
    description = free_text(blank=True)

    class Meta:
        ordering = ["pattern"]
        constraints = [
            models.CheckConstraint(
                condition=ids.matches("pattern", ids.ENGINE_ROUTE),
                name="engineroute_pattern_format",
                violation_error_message="Engine route has an invalid format.",
            ),
        ]

    def __str__(self):
        return self.pattern
