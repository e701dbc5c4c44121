"""run_probe: install (or reuse) the package, start the server isolated, read what it serves."""

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from mcp import MCPError
from mcp.types import CONNECTION_CLOSED

from . import sandbox
from .cache import PackageCache, entry_key
from .client import ExchangeFailed, remote_transport, run_exchange, stdio_transport
from .install import TAIL_BYTES, InstallFailed, install, tail
from .remote import private_address_refusal
from .target import InvalidTarget, ProbeLimits, ProbeOutcome, validate_target

DEFAULT_CACHE_CAP = 2 * 1024**3
_MEMORY_SIGNS = re.compile(
    r"MemoryError|out of memory|Cannot allocate memory|bad_alloc|Fatal process OOM|ENOMEM", re.IGNORECASE
)


def run_probe(target, *, limits=None, cache_dir, cache_cap_bytes=DEFAULT_CACHE_CAP, allow_unisolated=False,
              bwrap="bwrap", allow_private_urls=False):
    """Probe `target` and return a ProbeOutcome; a failing probe is ok=False with the reason, never an
    exception. Raises TypeError/ValueError only for bad arguments (not for a bad target: that is a failed
    outcome naming the field; call validate_target first to refuse it up front).

    `bwrap` names the bubblewrap executable; `allow_private_urls` lets a remote probe reach loopback and
    private addresses (tests, local development)."""
    limits = ProbeLimits() if limits is None else limits
    if not isinstance(limits, ProbeLimits):
        raise TypeError(f"limits must be a ProbeLimits, not {type(limits).__name__}")
    if not isinstance(cache_dir, str | os.PathLike) or not str(cache_dir):
        raise TypeError("cache_dir must be a path")
    if isinstance(cache_cap_bytes, bool) or not isinstance(cache_cap_bytes, int) or cache_cap_bytes <= 0:
        raise ValueError("cache_cap_bytes must be a positive integer")
    started = time.perf_counter()
    try:
        validate_target(target)
    except InvalidTarget as error:
        return ProbeOutcome(ok=False, reason=f"{error.field}: {error.reason}")
    if target.kind == "remote":
        refusal = "" if allow_private_urls else private_address_refusal(target.url)
        if refusal:
            outcome = ProbeOutcome(ok=False, reason=refusal, isolated=False)
        else:
            outcome = _probe_remote(target, limits)
    else:
        try:
            outcome = _probe_stdio(target, limits, Path(os.path.realpath(cache_dir)), cache_cap_bytes,
                                   allow_unisolated, bwrap)
        except OSError as error:  # the machine, not the server: a cache directory not writable, a full disk
            outcome = ProbeOutcome(ok=False, reason=f"the probe could not run on this machine: {error}")
    outcome.timing = {"install_ms": 0.0, **outcome.timing, "total_ms": _ms_since(started)}
    return outcome


def _probe_remote(target, limits):
    exchange, error = run_exchange(
        lambda: remote_transport(target.url), seconds=limits.run_seconds, max_pages=limits.max_pages
    )
    if error is None:
        # Not sandboxed: a remote runs on someone else's machine; the probe only speaks to it.
        return _succeeded(exchange, stderr_tail="", isolated=False)
    if isinstance(error, TimeoutError):
        reason = f"no answer to {exchange.phase} from {target.url} within {limits.run_seconds:g} s"
    elif exchange.phase == "start" or exchange.phase == "initialize":
        reason = f"cannot speak MCP with {target.url}: {_describe(error)}"
    else:
        reason = f"{target.url} failed during {exchange.phase}: {_describe(error)}"
    return _failed(exchange, reason, stderr_tail="", isolated=False)


def _probe_stdio(target, limits, cache_dir, cache_cap, allow_unisolated, bwrap):
    # Checked once, before anything is installed: a machine that cannot isolate should refuse at once.
    problem = sandbox.check_isolation(bwrap, sandbox.interpreter_paths())
    if problem and not allow_unisolated:
        return ProbeOutcome(ok=False, isolated=False, reason=(
            f"cannot isolate the server: {problem}; refusing to run it unisolated "
            "(WORKBENCH_PROBE_ALLOW_UNISOLATED=1 allows it, for local development only)"
        ))
    isolate = not problem
    if target.kind == "local":
        script = Path(target.identifier)
        if not script.is_file():
            return ProbeOutcome(ok=False, reason=f"identifier: no such file {target.identifier}",
                                isolated=isolate)
        # Only real paths are bound into the sandbox, so the server is started by them: a venv or a
        # script reached through a symlink would not exist inside.
        python = os.path.join(os.path.realpath(sys.prefix), "bin", os.path.basename(sys.executable))
        argv = [python, os.path.realpath(script)]
        paths = [*sandbox.interpreter_paths(), os.path.realpath(script.parent)]
        return _run_server(argv, paths, [], limits, isolate, bwrap)
    cache = PackageCache(cache_dir, cache_cap)
    key = entry_key(target.kind, target.identifier, target.version)
    with cache.lease(key) as entry:
        install_started = time.perf_counter()
        meta = cache.lookup(key)
        cache_hit = meta is not None
        if meta is None:
            try:
                with cache.build(key) as build_path:
                    meta = install(target, build_path, seconds=limits.install_seconds)
                    meta = cache.publish(key, build_path, meta)
            except InstallFailed as error:
                return ProbeOutcome(ok=False, reason=error.reason, stderr_tail=error.output_tail,
                                    isolated=isolate, timing={"install_ms": _ms_since(install_started)})
            try:
                cache.evict(keep=key)
            except OSError:  # a cache over its cap for a while is no reason to fail this probe
                pass
        install_ms = 0.0 if cache_hit else _ms_since(install_started)
        argv, problem = _package_argv(target, entry, meta)
        if problem:
            outcome = ProbeOutcome(ok=False, reason=problem, isolated=isolate)
        else:
            paths = [*sandbox.interpreter_paths(), str(entry)]
            if target.kind == "npm":
                paths += sandbox.node_paths()
            extra_path = [str(entry / "venv" / "bin")] if target.kind == "pypi" else [
                str(entry / "npm" / "node_modules" / ".bin")]
            outcome = _run_server(argv, paths, extra_path, limits, isolate, bwrap)
    outcome.cache_hit = cache_hit
    outcome.timing = {"install_ms": install_ms, **outcome.timing}
    return outcome


def _package_argv(target, entry, meta):
    """The command that starts the package's server, or a reason why none can be chosen."""
    bins = list(meta.get("bins", []))
    if target.bin:
        if target.bin not in bins:
            listed = ", ".join(bins) or "none"
            return None, f"bin: the package has no executable {target.bin!r} (it has: {listed})"
        chosen = target.bin
    else:
        default = target.identifier.rsplit("/", 1)[-1]
        normal = re.sub(r"[-_.]+", "-", default).lower()
        matching = [name for name in bins if re.sub(r"[-_.]+", "-", name).lower() == normal]
        if matching:
            chosen = matching[0]
        elif len(bins) == 1:
            chosen = bins[0]
        elif not bins:
            return None, "the package declares no executable to start its server"
        else:
            return None, f"the package has several executables ({', '.join(bins)}): name one as bin"
    if target.kind == "pypi":
        venv_bin = entry / "venv" / "bin"
        # Console scripts are run as Python files: their #! line names the temporary build directory,
        # which was renamed into the cache when the install completed.
        return [str(venv_bin / "python"), str(venv_bin / chosen)], ""
    return [str(entry / "npm" / "node_modules" / ".bin" / chosen)], ""


def _run_server(argv, read_only_paths, extra_path, limits, isolate, bwrap):
    with tempfile.TemporaryDirectory(prefix="workbench-probe-") as workdir, \
            tempfile.TemporaryFile() as errlog:
        status_path = Path(workdir) / "status.json"
        if not isolate:
            home = Path(workdir) / "home"
            home.mkdir()
            launch = sandbox.unisolated_launch(argv, workdir=home, extra_path=extra_path,
                                               memory_mb=limits.memory_mb, status_path=status_path)
        else:
            launch = sandbox.isolated_launch(bwrap, argv, read_only_paths=read_only_paths,
                                             extra_path=extra_path, memory_mb=limits.memory_mb,
                                             status_path=status_path)
        exchange, error = run_exchange(
            lambda: stdio_transport(launch, errlog), seconds=limits.run_seconds, max_pages=limits.max_pages
        )
        stderr_tail = tail(errlog, TAIL_BYTES)
        code = sandbox.exit_code(status_path)
    if error is None:
        return _succeeded(exchange, stderr_tail=stderr_tail, isolated=launch.isolated)
    reason = _stdio_reason(exchange, error, code, stderr_tail, limits)
    return _failed(exchange, reason, stderr_tail=stderr_tail, isolated=launch.isolated)


def _stdio_reason(exchange, error, code, stderr_tail, limits):
    phase = exchange.phase
    if isinstance(error, ExchangeFailed):
        return str(error)
    if isinstance(error, TimeoutError):
        if phase == "tools/list":
            return f"tools/list did not complete within {limits.run_seconds:g} s"
        return f"no answer to {phase} within {limits.run_seconds:g} s"
    if isinstance(error, MCPError) and error.code != CONNECTION_CLOSED:
        return f"the server answered {phase} with an error ({error.code}: {error.message[:300]})"
    if _MEMORY_SIGNS.search(stderr_tail):
        return f"the server exceeded the memory limit ({limits.memory_mb} MB) and exited (exit code {code})"
    if stderr_tail.startswith("bwrap:"):
        return f"the sandbox could not start the server: {stderr_tail.splitlines()[0]}"
    when = "before answering initialize" if phase in ("start", "initialize") else f"during {phase}"
    if code is not None:
        return f"the server exited {when} (exit code {code})"
    return f"the connection to the server failed {when}: {_describe(error)}"


def _succeeded(exchange, *, stderr_tail, isolated):
    return ProbeOutcome(
        ok=True, reason="", server_name=exchange.server_name, server_version=exchange.server_version,
        protocol_version=exchange.protocol_version, tools=exchange.tools, timing=dict(exchange.timing),
        stderr_tail=stderr_tail, isolated=isolated,
    )


def _failed(exchange, reason, *, stderr_tail, isolated):
    return ProbeOutcome(
        ok=False, reason=reason, server_name=exchange.server_name, server_version=exchange.server_version,
        protocol_version=exchange.protocol_version, timing=dict(exchange.timing), stderr_tail=stderr_tail,
        isolated=isolated,
    )


def _describe(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


def _ms_since(started):
    return round((time.perf_counter() - started) * 1000, 1)
