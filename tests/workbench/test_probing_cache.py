"""The probe runner's package cache: reuse, two workers installing at once, the size cap (least recently
used first, never an entry in use), with an installer stand-in that needs no network."""

import os
import threading
import time
from dataclasses import replace

from tests.workbench.probing_kit import FakeInstaller, needs_bwrap, package, probe
from workbench.probing import runner as probe_runner
from workbench.probing.cache import PackageCache, entry_key


@needs_bwrap
def test_a_cached_package_is_reused_without_installing_again(tmp_path, monkeypatch):
    installer = FakeInstaller()
    monkeypatch.setattr(probe_runner, "install", installer)

    first = probe(tmp_path, package())
    second = probe(tmp_path, package())

    assert first.ok and second.ok, (first.reason, second.reason)
    assert len(installer.calls) == 1
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert first.timing["install_ms"] > 0
    assert second.timing["install_ms"] == 0
    assert [tool["name"] for tool in second.tools] == ["search_notes", "create_note", "delete_note"]
    assert (first.server_name, second.server_name) == ("probe-fixture", "probe-fixture")


@needs_bwrap
def test_two_workers_installing_the_same_package_never_see_half_of_it(tmp_path, monkeypatch):
    installer = FakeInstaller(delay=0.5)
    monkeypatch.setattr(probe_runner, "install", installer)
    outcomes = []

    def worker():
        outcomes.append(probe(tmp_path, package()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == 2 and all(outcome.ok for outcome in outcomes), [o.reason for o in outcomes]
    cache = tmp_path / "cache"
    entries = [path.name for path in (cache / "entries").iterdir()]
    assert entries == [entry_key("pypi", "notes-server", "1.0.0")]
    assert list((cache / "building").iterdir()) == []  # the loser's build was dropped


@needs_bwrap
def test_the_cache_cap_evicts_the_least_recently_used_package(tmp_path, monkeypatch):
    installer = FakeInstaller(padding_bytes=1024 * 1024)
    monkeypatch.setattr(probe_runner, "install", installer)
    cap = 3 * 1024 * 1024  # two entries fit, three do not

    for name in ("first-server", "second-server"):
        assert probe(tmp_path, package(name), cache_cap_bytes=cap).ok
    time.sleep(0.05)
    assert probe(tmp_path, package("first-server"), cache_cap_bytes=cap).cache_hit  # first is now fresher
    assert probe(tmp_path, package("third-server"), cache_cap_bytes=cap).ok

    entries = {path.name for path in (tmp_path / "cache" / "entries").iterdir()}
    assert entries == {entry_key("pypi", name, "1.0.0") for name in ("first-server", "third-server")}
    again = probe(tmp_path, package("second-server"), cache_cap_bytes=cap)
    assert again.ok and not again.cache_hit
    assert len(installer.calls) == 4


def test_eviction_never_removes_an_entry_in_use_nor_the_one_kept(tmp_path):
    cache = PackageCache(tmp_path / "cache", cap_bytes=0)
    for index, key in enumerate(("in-use", "kept", "idle")):
        with cache.lease(key), cache.build(key) as build:
            (build / "payload").write_bytes(b"x" * 1000)
            cache.publish(key, build, {"bins": []})
        os.utime(cache.locks / f"{key}.lock", (1000 + index, 1000 + index))

    with cache.lease("in-use"):
        removed = cache.evict(keep="kept")

    assert removed == ["idle"]
    assert {path.name for path in cache.entries.iterdir()} == {"in-use", "kept"}
    assert cache.lookup("in-use")["size_bytes"] == 1000
    assert cache.evict(keep="kept") == ["in-use"]  # released: now it may go


@needs_bwrap
def test_the_executable_to_start_is_the_packages_own_or_the_one_named(tmp_path, monkeypatch):
    monkeypatch.setattr(probe_runner, "install", FakeInstaller(bins=["notes-admin", "notes-mcp"]))

    several = probe(tmp_path, package())
    assert not several.ok
    assert several.reason == "the package has several executables (notes-admin, notes-mcp): name one as bin"
    assert several.cache_hit is False  # installed, kept, and reused below

    wrong = probe(tmp_path, replace(package(), bin="notes-cli"))
    assert wrong.reason == "bin: the package has no executable 'notes-cli' (it has: notes-admin, notes-mcp)"

    named = probe(tmp_path, replace(package(), bin="notes-mcp"))
    assert named.ok, named.reason
    assert named.cache_hit is True
    assert len(named.tools) == 3


@needs_bwrap
def test_a_single_executable_is_started_whatever_its_name(tmp_path, monkeypatch):
    monkeypatch.setattr(probe_runner, "install", FakeInstaller(bins=["serve"]))

    outcome = probe(tmp_path, package())

    assert outcome.ok, outcome.reason
    assert outcome.server_name == "probe-fixture"
