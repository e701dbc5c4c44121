"""What a probe may run: a package named exactly (registry, identifier syntax, exact version), a remote
server's URL, or (tests only) a file under one of WORKBENCH_PROBE_LOCAL_PATHS. Checked before a probe is
queued, so a probe never starts with a target nobody could install."""

import re
from pathlib import Path

from django.conf import settings

from workbench.kit.refusals import Refusal, field_error
from workbench.probing import InvalidTarget, ProbeTarget, validate_target

URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
URL_LIMIT = 500
PACKAGE_TYPES = ("pypi", "npm")
EXAMPLES = {"pypi": "mcp-server-time 2026.10.19", "npm": "@modelcontextprotocol/server-everything 2025.11.25"}


def _refuse(field, message, code="invalid"):
    raise Refusal.invalid([field_error(field, code, message)])


def package_errors(registry_type, identifier, version, *, bin="", prefix=""):
    """Field errors ({field, code, message}) of a package target; empty when it names one exact version of
    a package the probe can install (the runner's own check, workbench.probing.validate_target)."""
    if registry_type not in PACKAGE_TYPES:
        return [field_error(f"{prefix}registry_type", "invalid_choice", "The registry type is pypi or npm.")]
    values = {"identifier": identifier, "version": version, "bin": bin}
    for name, value in values.items():
        if not isinstance(value, str):
            return [field_error(f"{prefix}{name}", "invalid", "Enter text.")]
    try:
        validate_target(ProbeTarget(kind=registry_type, **values))
    except InvalidTarget as invalid:
        code = "inexact_version" if invalid.field == "version" else "invalid"
        message = f"{invalid.reason[0].upper()}{invalid.reason[1:]}, e.g. {EXAMPLES[registry_type]}."
        return [field_error(f"{prefix}{invalid.field}", code, message)]
    return []


def check_package(registry_type, identifier, version, bin=""):
    errors = package_errors(registry_type, identifier, version, bin=bin)
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
        binary = packaging.get("bin", "")
        if binary is None:
            binary = ""
        if not isinstance(binary, str):
            # Dropping it would start a different executable than the draft names.
            _refuse(f"{where}.bin", "The executable to start (bin) is text, e.g. 'mcp-server-time'.")
        errors = package_errors(
            kind, packaging.get("identifier"), packaging.get("version"), bin=binary, prefix=f"{where}."
        )
        if errors:
            raise Refusal.invalid(errors)
        return {"registry_type": kind, "identifier": packaging["identifier"], "version": packaging["version"],
                "url": "", "bin": binary}
    for index, remote in enumerate(remotes if isinstance(remotes, list) else []):
        if not isinstance(remote, dict) or remote.get("type") != "streamable-http":
            continue
        url = remote.get("url")
        if not isinstance(url, str) or not URL.fullmatch(url):
            continue
        if len(url) > URL_LIMIT:
            # Cutting it would probe a different server than the draft names.
            _refuse(f"spec_snapshot.remotes[{index}].url", f"The remote's URL is {len(url)} characters; a "
                    f"probe reaches URLs of at most {URL_LIMIT}.", code="too_long")
        return {"registry_type": "remote", "identifier": "", "version": "", "url": url, "bin": ""}
    if kind:
        _refuse(f"{where}.registry_type", f"The probe installs pypi and npm packages, not {kind!r} ones.")
    _refuse(where, "The draft names no package (pypi or npm, exact version) and no streamable-HTTP remote "
            "to probe.", code="nothing_to_probe")
