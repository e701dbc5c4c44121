"""Tenants and who belongs to them: the one part of the workbench domain the other apps may import."""
