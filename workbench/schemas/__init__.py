"""JSON Schemas kept as files: the MCP connector contract a draft's spec must meet, and the policy shape."""

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


@cache
def load_schema(name):
    """A schema file of this folder, parsed once per process (the files never change at run time)."""
    with open(HERE / f"{name}.schema.json", encoding="utf-8") as handle:
        return json.load(handle)
