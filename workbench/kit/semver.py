"""Versions as MAJOR.MINOR.PATCH: the one parser every rule about "above", "latest" and "next" uses."""

from workbench.kit.identifiers import validate_semver


def parse(version):
    """(major, minor, patch) of a valid version string, or None for anything else (never raises)."""
    if isinstance(version, str) and validate_semver.regex.match(version):
        major, minor, patch = (int(part) for part in version.split("."))
        return major, minor, patch
    return None


def next_patch(version):
    """The version one patch above `version` (which must be valid)."""
    major, minor, patch = parse(version)
    return f"{major}.{minor}.{patch + 1}"
