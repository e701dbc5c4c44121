from .routing import EngineRoute, RoutingConfig
from .specs import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope, Skill

__all__ = ["MCP_CONNECTOR_CLASS", "ComponentSpec", "Connector", "EngineRoute", "RoutingConfig", "Scope", "Skill"]
