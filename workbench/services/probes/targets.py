"""What a probe may run: a package named exactly (registry, identifier syntax, exact version), a remote
server's URL, or (tests only) a file under one of WORKBENCH_PROBE_LOCAL_PATHS. Checked before a probe is
queued, so a probe never starts with a target nobody could install."""

import re
from pathlib import Path

from django.conf import settings

from workbench.kit.refusals import Refusal, field_error

# PEP 508 names; npm's package names (an optional @scope/, lower case, at most 214 characters).
PYPI_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
NPM_NAME = re.compile(r"(?:@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*")
NPM_NAME_LIMIT = 214
# Exact versions only: PEP 440 public versions (1.2, 2025.9.25, 1.0rc1, 1.0.post2) and semver (1.2.3,
# 1.2.3-beta.1); no ranges, wildcards or tags such as latest.
PYPI_VERSION = re.compile(
    r"(?:[0-9]{1,9}!)?[0-9]{1,9}(?:\.[0-9]{1,9}){0,5}(?:(?:a|b|rc)[0-9]{1,9})?(?:\.post[0-9]{1,9})?"
    r"(?:\.dev[0-9]{1,9})?"
)
NPM_VERSION = re.compile(
    r"(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
VERSION_LIMIT = 64
URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
URL_LIMIT = 500
PACKAGE_TYPES = ("pypi", "npm")


def _refuse(field, message, code="invalid"):
    raise Refusal.invalid([field_error(field, code, message)])


def package_errors(registry_type, identifier, version, *, prefix=""):
    """Field errors ({field, code, message}) of a package target; empty when it is a package the probe can
    install exactly."""
    errors = []
    if registry_type not in PACKAGE_TYPES:
        errors.append(
            field_error(f"{prefix}registry_type", "invalid_choice", "The registry type is pypi or npm.")
        )
        return errors
    identifier = identifier if isinstance(identifier, str) else ""
    version = version if isinstance(version, str) else ""
    if registry_type == "pypi" and not PYPI_NAME.fullmatch(identifier):
        errors.append(
            field_error(
                f"{prefix}identifier",
                "invalid",
                "Enter a PyPI project name: letters, digits, '.', '_' or '-', starting and ending with a "
                "letter or digit (at most 100 characters), e.g. 'mcp-server-time'.",
            )
        )
    if registry_type == "npm" and (len(identifier) > NPM_NAME_LIMIT or not NPM_NAME.fullmatch(identifier)):
        errors.append(
            field_error(
                f"{prefix}identifier",
                "invalid",
                "Enter an npm package name: lower case, an optional @scope/, at most 214 characters, "
                "e.g. '@modelcontextprotocol/server-everything'.",
            )
        )
    pattern = PYPI_VERSION if registry_type == "pypi" else NPM_VERSION
    if len(version) > VERSION_LIMIT or not pattern.fullmatch(version):
        example = "2025.9.25 or 1.2.0rc1" if registry_type == "pypi" else "1.2.0 or 1.2.0-beta.1"
        errors.append(
            field_error(
                f"{prefix}version",
                "inexact_version",
                f"Name one exact version, e.g. {example} (no ranges, wildcards or tags such as latest).",
            )
        )
    return errors


def check_package(registry_type, identifier, version):
    errors = package_errors(registry_type, identifier, version)
    if errors:
        raise Refusal.invalid(errors)


def local_file_allowed(path):
    """Whether a probe of kind "local" may start `path`: only a file under one of the configured
    directories (none in production)."""
    if not isinstance(path, str) or not path or "\x00" in path:
        return False
    try:
        resolved = Path(path).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return False
    for root in settings.WORKBENCH_PROBE_LOCAL_PATHS:
        try:
            if resolved.is_file() and resolved.is_relative_to(Path(root).resolve()):
                return True
        except (OSError, RuntimeError, ValueError):
            continue
    return False


def target_of_packaging(packaging, remotes=None):
    """The probe target ({registry_type, identifier, version, url, bin}) a draft's packaging (or its first
    streamable-HTTP remote) names; 400 naming spec_snapshot.packaging when there is none to probe."""
    packaging = packaging if isinstance(packaging, dict) else {}
    kind = packaging.get("registry_type")
    where = "spec_snapshot.packaging"
    if kind == "local":
        if not local_file_allowed(packaging.get("identifier")):
            _refuse(f"{where}.identifier", "A local file is probed only from the test suite's directories.")
        return {"registry_type": "local", "identifier": packaging["identifier"], "version": "", "url": "",
                "bin": ""}
    if kind in PACKAGE_TYPES:
        errors = package_errors(
            kind, packaging.get("identifier"), packaging.get("version"), prefix=f"{where}."
        )
        if errors:
            raise Refusal.invalid(errors)
        binary = packaging.get("bin") if isinstance(packaging.get("bin"), str) else ""
        return {"registry_type": kind, "identifier": packaging["identifier"], "version": packaging["version"],
                "url": "", "bin": binary[:214]}
    for remote in remotes if isinstance(remotes, list) else []:
        url = remote.get("url") if isinstance(remote, dict) else None
        if remote.get("type") == "streamable-http" and isinstance(url, str) and URL.fullmatch(url):
            return {"registry_type": "remote", "identifier": "", "version": "", "url": url[:URL_LIMIT],
                    "bin": ""}
    if kind:
        _refuse(f"{where}.registry_type", f"The probe installs pypi and npm packages, not {kind!r} ones.")
    _refuse(where, "The draft names no package (pypi or npm, exact version) and no streamable-HTTP remote "
            "to probe.", code="nothing_to_probe")
