"""Starting a server isolated: bubblewrap with no network, a read-only view of only what the server needs,
its own small tmpfs /tmp, a clean environment, and a memory limit.

The command is `sh -c` around bwrap: the shell sets the memory limit, opens the status file and execs
bwrap, so bwrap is the SDK's direct child (`--die-with-parent` follows the worker) and reports the
server's exit code as JSON (`--json-status-fd`), which the stdio transport does not expose.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DETECT_SECONDS = 10
# Only what a Python or Node server needs from the system: no /home, /root, /work, /var, no secrets.
SYSTEM_DIRS = ("/usr",)
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/ca-certificates.conf", "/etc/passwd",
    "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/localtime", "/etc/ld.so.cache",
    "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/mime.types",
)
SERVER_PATH = "/usr/local/bin:/usr/bin:/bin"
TMPFS_MAX_MB = 256
# RLIMIT_FSIZE: the server's stderr is a file on the worker's disk; past this size its writes fail
# (Python and Node ignore SIGXFSZ and get EFBIG) instead of filling the disk within the run limit.
FILE_MAX_MB = 64


@dataclass(frozen=True)
class Launch:
    """How to start the server: command and args for the SDK's StdioServerParameters."""

    command: str
    args: list
    isolated: bool


def bwrap_path(bwrap):
    """The bubblewrap executable named by `bwrap` (a name on PATH or a path), or None."""
    return shutil.which(bwrap) if bwrap else None


def check_isolation(bwrap, read_only_paths):
    """Run `true` in the same sandbox the server would get: "" when it works, else why not."""
    executable = bwrap_path(bwrap)
    if executable is None:
        return f"bubblewrap ({bwrap or 'bwrap'}) is not installed"
    command = [executable, *_sandbox_args(read_only_paths, memory_mb=64, extra_path=()), "--", "true"]
    try:
        result = subprocess.run(
            command, capture_output=True, timeout=DETECT_SECONDS, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not run: {error}"
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        return f"bubblewrap cannot create a sandbox here (user namespaces off?): {detail[0]}"
    return ""


def isolated_launch(bwrap, argv, *, read_only_paths, extra_path, memory_mb, status_path):
    executable = bwrap_path(bwrap)
    sandbox = _sandbox_args(read_only_paths, memory_mb=memory_mb, extra_path=extra_path)
    script = 'exec 3>"$1"; ulimit -d "$2"; ulimit -f "$3"; shift 3; exec "$@"'
    return Launch(
        command="/bin/sh",
        args=["-c", script, "sh", str(status_path), str(_data_kb(memory_mb)), str(_file_blocks()),
              executable, "--json-status-fd", "3", *sandbox, "--", *argv],
        isolated=True,
    )


def unisolated_launch(argv, *, workdir, extra_path, memory_mb, status_path):
    """The same limits without bubblewrap (WORKBENCH_PROBE_ALLOW_UNISOLATED, local development only):
    a clean environment, a private working directory as HOME and TMPDIR, the memory limit."""
    env = [f"{name}={value}" for name, value in _server_env(extra_path, home=str(workdir)).items()]
    script = (
        'status=$1; ulimit -d "$2"; ulimit -f "$3"; cd "$4" || exit 126; shift 4; "$@"; '
        'echo "{\\"exit-code\\": $?}" > "$status"'
    )
    return Launch(
        command="/bin/sh",
        args=["-c", script, "sh", str(status_path), str(_data_kb(memory_mb)), str(_file_blocks()),
              str(workdir),
              "/usr/bin/env", "-i", *env, *argv],
        isolated=False,
    )


def exit_code(status_path):
    """The server's exit code from the status file, or None while unknown (it was killed with its
    sandbox, or never started)."""
    try:
        text = Path(status_path).read_text()
    except OSError:
        return None
    code = None
    for line in text.splitlines():
        try:
            code = json.loads(line).get("exit-code", code)
        except (ValueError, AttributeError):
            continue
    return code if isinstance(code, int) else None


def interpreter_paths():
    """What a Python server needs inside the sandbox: the installation the worker's Python (and every
    venv made from it) runs on, and the worker's venv (a local script runs on it; it holds libraries,
    no secrets: the project's own directory is not bound)."""
    return sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)})


def node_paths():
    node = shutil.which("node")
    return [str(Path(os.path.realpath(node)).parent.parent)] if node else []


def _data_kb(memory_mb):
    # RLIMIT_DATA, not RLIMIT_AS: V8 reserves gigabytes of address space it never uses (node aborts at
    # start under a 512 MB RLIMIT_AS: "Failed to reserve virtual memory for CodeRange"); the data limit
    # counts the private writable memory a server can actually fill, for Python and Node alike.
    return int(memory_mb) * 1024


def _file_blocks():
    return FILE_MAX_MB * 1024 * 1024 // 512  # POSIX sh counts ulimit -f in 512-byte blocks


def _server_env(extra_path, *, home):
    path = ":".join([*extra_path, SERVER_PATH])
    return {"PATH": path, "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8"}


def _sandbox_args(read_only_paths, *, memory_mb, extra_path):
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in _server_env(extra_path, home="/tmp").items():
        args += ["--setenv", name, value]
    for directory in SYSTEM_DIRS:
        args += ["--ro-bind", directory, directory]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    tmpfs_bytes = min(int(memory_mb), TMPFS_MAX_MB) * 1024 * 1024
    args += ["--dev", "/dev", "--proc", "/proc", "--size", str(tmpfs_bytes), "--tmpfs", "/tmp"]
    # After the tmpfs, so a package or script that lives under /tmp stays visible (read-only).
    for path in read_only_paths:
        if not _covered(path):
            args += ["--ro-bind", path, path]
    return [*args, "--chdir", "/tmp"]


def _covered(path):
    return any(path == directory or path.startswith(directory + "/") for directory in SYSTEM_DIRS)
