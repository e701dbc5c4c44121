"""Installing one exact package version with the registries' ordinary clients, outside the sandbox.

pip installs wheels only (`--only-binary=:all:`) and npm runs no install scripts (`--ignore-scripts`):
installing happens outside the sandbox, so it must not execute the package's code. A package that ships
only sources, or needs an install script, fails here with the installer's own words.
"""

import configparser
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

TAIL_BYTES = 4096
# An allowlist, so none of the worker's own secrets (database URL, secret key, whatever a deployment adds)
# reaches the installer: only what finds the clients and the registries passes (PATH, HOME for pip.conf
# and .npmrc, locale, temp dir, pip's and npm's settings, proxies and CA bundles).
_PASSED_NAMES = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR", "TZ", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
})
_PASSED_PREFIXES = ("LC_", "PIP_", "NPM_CONFIG_", "npm_config_", "SSL_CERT_")


def _passed(name):
    return name in _PASSED_NAMES or name.startswith(_PASSED_PREFIXES)


class InstallFailed(Exception):
    def __init__(self, reason, output_tail=""):
        super().__init__(reason)
        self.reason = reason
        self.output_tail = output_tail


def installer_env():
    env = {name: value for name, value in os.environ.items() if _passed(name)}
    env["PIP_NO_INPUT"] = "1"
    env["npm_config_update_notifier"] = "false"
    return env


def install(target, build_path, *, seconds):
    """Install `target` (pypi or npm) into `build_path` within `seconds`; return the entry's metadata
    ({"kind", "bins", "installed_version"}). Raises InstallFailed with a reason and the output tail."""
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryFile() as log:
        if target.kind == "pypi":
            return _install_pypi(target, build_path, deadline, log)
        return _install_npm(target, build_path, deadline, log)


def _install_pypi(target, build_path, deadline, log):
    venv = build_path / "venv"
    spec = f"{target.identifier}=={target.version}"
    # No pip inside the new venv: the worker's pip installs into it (`--python`), saving ensurepip's time.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log, deadline, f"pypi {spec}")
    command = [
        sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
        "--no-input", "--disable-pip-version-check", "--only-binary=:all:", spec,
    ]
    returncode = _run(command, log, deadline, f"pypi {spec}", check=False)
    if returncode != 0:
        output = tail(log)
        raise InstallFailed(_pip_reason(target, output, returncode), output)
    dist_info = _dist_info(venv, target.identifier)
    if dist_info is None:
        raise InstallFailed(f"pip reported success but {target.identifier} is not installed", tail(log))
    return {"kind": "pypi", "bins": _console_scripts(dist_info), "installed_version": target.version}


def _install_npm(target, build_path, deadline, log):
    prefix = build_path / "npm"
    spec = f"{target.identifier}@{target.version}"
    command = [
        "npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--ignore-scripts",
        "--no-save", spec,
    ]
    returncode = _run(command, log, deadline, f"npm {spec}", check=False)
    if returncode != 0:
        output = tail(log)
        raise InstallFailed(_npm_reason(target, output, returncode), output)
    try:
        manifest = json.loads((prefix / "node_modules" / target.identifier / "package.json").read_text())
    except (OSError, ValueError):
        raise InstallFailed(f"npm reported success but {spec} is not installed", tail(log)) from None
    declared = manifest.get("bin") or {}
    if isinstance(declared, str):
        declared = {target.identifier.rsplit("/", 1)[-1]: declared}
    bins = sorted(name for name in declared if isinstance(name, str))
    return {"kind": "npm", "bins": bins, "installed_version": str(manifest.get("version", ""))}


def _run(command, log, deadline, what, *, check=True):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise InstallFailed(f"installing {what} ran out of time", tail(log))
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=installer_env(),
            start_new_session=True,  # a process group of its own, so a timeout kills pip's children too
        )
    except OSError as error:
        raise InstallFailed(f"cannot start {command[0]}: {error.strerror}") from None
    try:
        returncode = process.wait(timeout=remaining)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise InstallFailed(f"installing {what} did not finish within the install time limit", tail(log)) \
            from None
    if check and returncode != 0:
        raise InstallFailed(f"installing {what} failed ({os.path.basename(command[0])} exit code "
                            f"{returncode})", tail(log))
    return returncode


def _pip_reason(target, output, returncode):
    found = re.search(r"\(from versions: ([^)]*)\)", output)
    if found and found.group(1).strip() == "none":
        return (f"PyPI has no package {target.identifier!r} (or no wheel of it for this platform; "
                "packages that ship only sources are not installed)")
    if found or "No matching distribution found" in output:
        versions = found.group(1).split(", ") if found else []
        known = f" (latest known: {', '.join(versions[-5:])})" if versions else ""
        return f"PyPI package {target.identifier!r} has no version {target.version}{known}"
    return f"installing pypi {target.identifier}=={target.version} failed (pip exit code {returncode})"


def _npm_reason(target, output, returncode):
    if re.search(r"\bE404\b", output):
        return f"npm has no package {target.identifier!r}"
    if re.search(r"\bETARGET\b", output):
        return f"npm package {target.identifier!r} has no version {target.version}"
    return f"installing npm {target.identifier}@{target.version} failed (npm exit code {returncode})"


def _dist_info(venv, identifier):
    wanted = re.sub(r"[-_.]+", "_", identifier).lower()
    for site in venv.glob("lib/python*/site-packages"):
        for candidate in site.glob("*.dist-info"):
            name = candidate.name.removesuffix(".dist-info").rsplit("-", 1)[0]
            if re.sub(r"[-_.]+", "_", name).lower() == wanted:
                return candidate
    return None


def _console_scripts(dist_info):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # script names are case-sensitive
    try:
        parser.read_string((dist_info / "entry_points.txt").read_text())
    except (OSError, configparser.Error):
        return []
    return sorted(parser["console_scripts"]) if parser.has_section("console_scripts") else []


def tail(log, size=TAIL_BYTES):
    """The last `size` bytes written to the open file `log`, as text."""
    log.flush()
    end = log.seek(0, os.SEEK_END)
    log.seek(max(0, end - size))
    data = log.read()
    log.seek(end)
    return data.decode("utf-8", "replace")
