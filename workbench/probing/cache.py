"""The package cache: one complete install per (registry, identifier, version), shared by every worker
on the machine.

Layout under the cache directory: `entries/<key>/` holds complete installs only (each with `meta.json`);
an install is built in `building/` and renamed into `entries/` when complete, so no worker ever sees
half of one. `locks/<key>.lock` is held shared (flock) by every probe using the entry, for as long as it
uses it; eviction takes it exclusive without waiting, so an entry in use is never removed. The lock
file's mtime is the entry's last use (least recently used entries go first).
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

META = "meta.json"
# A build directory this old belongs to a worker that died mid-install (installs are capped far lower).
STALE_BUILD_SECONDS = 6 * 3600


def entry_key(registry, identifier, version):
    """A directory name for the entry: readable, and unique thanks to the digest of the exact triple."""
    digest = hashlib.sha256(f"{registry}\0{identifier}\0{version}".encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{registry}-{identifier}-{version}")[:80]
    return f"{readable}-{digest}"


class PackageCache:
    def __init__(self, root, cap_bytes):
        self.root = Path(root)
        self.cap_bytes = cap_bytes
        self.entries = self.root / "entries"
        self.building = self.root / "building"
        self.locks = self.root / "locks"
        for directory in (self.entries, self.building, self.locks):
            directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def lease(self, key):
        """Hold the entry `key` in use (shared lock) for the block; yields its directory, which may not
        exist yet (then the caller installs it with `build`)."""
        lock_path = self.locks / f"{key}.lock"
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            os.utime(lock_path)  # last use, for eviction
            yield self.entries / key

    def lookup(self, key):
        """The entry's metadata if a complete install is in place, else None."""
        try:
            return json.loads((self.entries / key / META).read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None

    @contextmanager
    def build(self, key):
        """A fresh build directory for `key`; when the block ends without error, `publish` it."""
        path = self.building / f"{key}.{uuid.uuid4().hex}"
        path.mkdir()
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def publish(self, key, build_path, meta):
        """Move a complete build into place. Another worker may have published the same key first: then
        its entry stays and this build is dropped; either way the entry's metadata is returned."""
        meta = {**meta, "size_bytes": tree_size(build_path)}
        (build_path / META).write_text(json.dumps(meta))
        try:
            os.rename(build_path, self.entries / key)
        except OSError:
            existing = self.lookup(key)
            if existing is None:
                raise
            return existing
        return meta

    def evict(self, *, keep):
        """Remove least recently used entries until the cache fits its cap; never `keep`, never an entry
        another probe holds. Returns the keys removed."""
        self._sweep_stale_builds()
        sizes = {}
        for path in self.entries.iterdir():
            meta = self.lookup(path.name)
            sizes[path.name] = meta.get("size_bytes", 0) if meta else tree_size(path)
        total = sum(sizes.values())
        removed = []
        for key in sorted(sizes, key=self._last_used):
            if total <= self.cap_bytes:
                break
            if key != keep and self._remove_unless_used(key):
                total -= sizes[key]
                removed.append(key)
        return removed

    def _last_used(self, key):
        try:
            return (self.locks / f"{key}.lock").stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _remove_unless_used(self, key):
        with open(self.locks / f"{key}.lock", "a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            # Renamed out under the exclusive lock: a probe that takes the shared lock next finds no
            # entry and installs again, instead of reading one that is being deleted.
            trash = self.building / f"{key}.evicted.{uuid.uuid4().hex}"
            try:
                os.rename(self.entries / key, trash)
            except FileNotFoundError:
                return False
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def _sweep_stale_builds(self):
        now = time.time()
        for path in self.building.iterdir():
            try:
                if now - path.stat().st_mtime > STALE_BUILD_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except FileNotFoundError:
                pass


def tree_size(path):
    """Bytes of the regular files under `path` (symlinks not followed)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total
