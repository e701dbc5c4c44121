"""What the probe runner's tests share: the small servers in probe_servers/, a probe through a fresh
cache, an installer stand-in that needs no network, and the mark for bubblewrap."""

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from workbench.probing import ProbeTarget, run_probe

SERVERS = Path(__file__).parent / "probe_servers"
BWRAP = shutil.which("bwrap")
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap is not installed (apt install bubblewrap)")


def local(name):
    return ProbeTarget(kind="local", identifier=str(SERVERS / f"{name}.py"))


def probe(tmp_path, target, **options):
    return run_probe(target, cache_dir=tmp_path / "cache", **options)


class FakeInstaller:
    """Installs the normal server as a venv with console scripts (the SDK from the project's venv): one
    named like the package, or the names given as `bins`."""

    def __init__(self, padding_bytes=0, delay=0.0, bins=None):
        self.calls = []
        self.padding_bytes = padding_bytes
        self.delay = delay
        self.bins = bins

    def __call__(self, target, build_path, *, seconds):
        self.calls.append(target)
        venv = build_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python*/site-packages"))
        # The real path: only real paths are bound into the sandbox.
        (site / "project.pth").write_text(os.path.realpath(sysconfig.get_paths()["purelib"]) + "\n")
        bins = [target.identifier] if self.bins is None else self.bins
        for name in bins:
            (venv / "bin" / name).write_text((SERVERS / "normal.py").read_text())
        (venv / "padding").write_bytes(b"x" * self.padding_bytes)
        time.sleep(self.delay)  # a slow download: lets two workers overlap
        return {"kind": "pypi", "bins": bins, "installed_version": target.version}


def package(name="notes-server", version="1.0.0"):
    return ProbeTarget(kind="pypi", identifier=name, version=version)
