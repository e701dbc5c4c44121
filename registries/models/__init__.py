from .domain import Boundary, Lead, MediaAsset, Memory, PatternScore, Task
from .routing import EngineRoute, RoutingConfig
from .specs import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope, Skill
from .tools import IdempotencyMode, ToolDefinition, ToolPermission, ToolReceipt, ToolRegistryImport

__all__ = ["MCP_CONNECTOR_CLASS", "ComponentSpec", "Connector", "EngineRoute", "RoutingConfig", "Scope",
           "Skill", "Boundary", "Lead", "MediaAsset", "Memory", "PatternScore", "Task",
           "IdempotencyMode", "ToolDefinition", "ToolPermission", "ToolReceipt", "ToolRegistryImport"]
