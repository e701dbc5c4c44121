"""Small MCP servers the probe tests start from their path (kind "local"), one behaviour each."""
