"""Registries endpoints under /api/v1/: (prefix, viewset, basename)."""

from .routing import EngineRouteViewSet, RoutingConfigViewSet
from .specs import ComponentSpecViewSet, ConnectorViewSet, ScopeViewSet
from .tools import ToolDefinitionViewSet, ToolReceiptViewSet

ROUTES = [
    ("connectors", ConnectorViewSet, "connector"),
    ("specs", ComponentSpecViewSet, "spec"),
    ("scopes", ScopeViewSet, "scope"),
    ("routing", RoutingConfigViewSet, "routing"),
    ("engine-routes", EngineRouteViewSet, "engine-route"),
    ("tools", ToolDefinitionViewSet, "tool"),
    ("receipts", ToolReceiptViewSet, "receipt"),
]
