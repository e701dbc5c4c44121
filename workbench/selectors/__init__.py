"""Reads that are more than a filter."""
