"""What a probe is asked to run (ProbeTarget), within which limits (ProbeLimits), and what it found
(ProbeOutcome); and the check that a target names one exact, installable thing."""

import re
from dataclasses import dataclass, field

KINDS = ("pypi", "npm", "remote", "local")

# PEP 440 public and local versions, without the operators (==, ~=, >=, *) that make a range.
_PEP440 = re.compile(
    r"^(?:\d+!)?\d+(?:\.\d+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$",
    re.IGNORECASE,
)
# Semantic versioning 2.0.0: npm reads anything else (^1.2, 1.x, latest) as a range or a tag.
_SEMVER = re.compile(
    r"^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
# PEP 508 names, and npm's (optionally scoped, lower case): anything else could be read by the installer
# as an option, a path or a URL.
_PYPI_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_NPM_NAME = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
_BIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
MAX_IDENTIFIER = 214  # npm's limit; PyPI names are shorter in practice
MAX_VERSION = 64
MAX_URL = 2048


@dataclass(frozen=True)
class ProbeTarget:
    """The server to probe: a package at an exact version, a remote endpoint, or a local script."""

    kind: str  # "pypi" | "npm" | "remote" | "local"
    identifier: str = ""  # package name (pypi/npm); for "local": path of a Python file serving stdio
    version: str = ""  # exact version (pypi/npm): no ranges, no "latest"
    url: str = ""  # "remote": a streamable-HTTP MCP endpoint
    bin: str = ""  # optional: the executable/console script to start (default derived from the package)


@dataclass(frozen=True)
class ProbeLimits:
    install_seconds: float = 300
    run_seconds: float = 30  # start + initialize + every tools/list page
    memory_mb: int = 512
    max_pages: int = 100  # tools/list pages read before the server is judged to page forever

    def __post_init__(self):
        for name in ("install_seconds", "run_seconds", "memory_mb", "max_pages"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"ProbeLimits.{name} must be a positive number, not {value!r}")


@dataclass
class ProbeOutcome:
    """What the probe found; `reason` is "" when ok, else one sentence a person understands."""

    ok: bool
    reason: str
    server_name: str = ""
    server_version: str = ""
    protocol_version: str = ""
    tools: list = field(default_factory=list)  # MCP Tool objects as JSON dicts (by alias, no None values)
    timing: dict = field(default_factory=dict)  # install_ms, start_ms, initialize_ms, tools_list_ms, total_ms
    stderr_tail: str = ""  # last ~4 KB of the server's stderr (the installer's output when install fails)
    isolated: bool = True  # False only when the server ran on this machine without bubblewrap
    cache_hit: bool = False  # the package came from the cache: nothing was installed for this probe


class InvalidTarget(ValueError):
    """A target that cannot name one exact server: `field` is the ProbeTarget field, `reason` why."""

    def __init__(self, field_name, reason):
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def validate_target(target):
    """Raise InvalidTarget unless `target` names one exact thing to probe; return it otherwise.

    Services call this before queuing a probe, to answer bad input at once with the field and reason.
    """
    if not isinstance(target, ProbeTarget):
        raise TypeError(f"expected a ProbeTarget, not {type(target).__name__}")
    for name in ("kind", "identifier", "version", "url", "bin"):
        value = getattr(target, name)
        if not isinstance(value, str):
            raise InvalidTarget(name, "must be text")
        if any(ord(char) < 0x20 or char == "\x7f" or 0xD800 <= ord(char) <= 0xDFFF for char in value):
            raise InvalidTarget(name, "contains a control character or a lone surrogate")
    if target.kind not in KINDS:
        raise InvalidTarget("kind", f"must be one of {', '.join(KINDS)}")
    if target.kind == "remote":
        _check_remote(target)
    elif target.kind == "local":
        if not target.identifier.endswith(".py") or not target.identifier.startswith("/"):
            raise InvalidTarget("identifier", "a local server is the absolute path of a Python file")
    else:
        _check_package(target)
    if target.bin and not _BIN.match(target.bin):
        raise InvalidTarget("bin", "must be the plain name of an executable (letters, digits, . _ -)")
    return target


def _check_remote(target):
    if not target.url:
        raise InvalidTarget("url", "a remote server needs its streamable-HTTP URL")
    if len(target.url) > MAX_URL or not _URL.match(target.url):
        raise InvalidTarget("url", "must be an http:// or https:// URL")


def _check_package(target):
    identifier, version = target.identifier, target.version
    name_pattern = _PYPI_NAME if target.kind == "pypi" else _NPM_NAME
    if not identifier:
        raise InvalidTarget("identifier", f"a {target.kind} probe needs the package name")
    if len(identifier) > MAX_IDENTIFIER or not name_pattern.match(identifier):
        raise InvalidTarget("identifier", f"{identifier!r} is not a valid {target.kind} package name")
    if not version:
        raise InvalidTarget("version", "an exact version is required")
    exact = _PEP440 if target.kind == "pypi" else _SEMVER
    if len(version) > MAX_VERSION or not exact.match(version):
        kind = "PEP 440" if target.kind == "pypi" else "semver"
        raise InvalidTarget(
            "version", f"{version!r} is not one exact {kind} version (no ranges, wildcards or tags)"
        )
