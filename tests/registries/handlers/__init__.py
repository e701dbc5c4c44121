"""Handlers for gateway tests only (the tests add this package to WORKBENCH_TOOL_HANDLER_PACKAGES):
probes whose effects are Task rows a test can count, and misbehaving ones (slow, crashing, wrong output)."""
