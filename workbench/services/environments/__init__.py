"""Bringing a database to a known environment (dev, staging, prod) and dumping the live state."""

from .dumping import environment_dump
from .loading import EnvironmentLoadError, LoadReport, environment_files, environment_load

__all__ = ["EnvironmentLoadError", "LoadReport", "environment_dump", "environment_files", "environment_load"]
