from .domain import Boundary, Lead, MediaAsset, Memory, PatternScore, Task
from .receipts import ToolReceipt
from .routing import EngineRoute, RoutingConfig
from .specs import MCP_CONNECTOR_CLASS, ComponentSpec, Connector, Scope, Skill
from .tools import IdempotencyMode, ToolDefinition, ToolPermission, ToolRegistryImport

__all__ = ["MCP_CONNECTOR_CLASS", "ComponentSpec", "Connector", "EngineRoute", "RoutingConfig", "Scope",
           "Skill", "Boundary", "Lead", "MediaAsset", "Memory", "PatternScore", "Task",
           "IdempotencyMode", "ToolDefinition", "ToolPermission", "ToolReceipt", "ToolRegistryImport"]
