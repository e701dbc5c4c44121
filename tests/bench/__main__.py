"""Runner: discover tests/bench/bench_*.py, run each against a throw-away database, print ratios."""

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

PACKAGE = "tests.bench"


def discover(only=()):
    """The bench modules, by name order; `only` keeps the ones whose name (without bench_) is listed."""
    here = [str(Path(__file__).parent)]
    names = sorted(info.name for info in pkgutil.iter_modules(here) if info.name.startswith("bench_"))
    wanted = {name.removeprefix("bench_") for name in only}
    return [
        importlib.import_module(f"{PACKAGE}.{name}")
        for name in names
        if not wanted or name.removeprefix("bench_") in wanted
    ]


def best_of(fn, repeat):
    """Fastest of `repeat` timed calls after one warm-up call: the least disturbed run on a shared machine."""
    fn()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def rolled_back(fn):
    """`fn` run inside a transaction (a savepoint) that is rolled back, so every timed run starts from
    the same rows."""

    def run():
        from django.db import transaction

        with transaction.atomic():
            fn()
            transaction.set_rollback(True)

    return run


@contextmanager
def throwaway_database(workdir):
    """Configure Django and create a migrated test database that never touches the real one."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor == "sqlite":
        # A file, not Django's default in-memory test database: timings as a served app sees them.
        connection.settings_dict["TEST"]["NAME"] = f"{workdir}/bench_test.sqlite3"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def format_table(results):
    header = ("bench", "baseline ms", "subject ms", "ratio")
    lines = [(name, f"{base * 1000:.2f}", f"{subject * 1000:.2f}", f"{subject / base:.1f}x")
             for name, base, subject in results]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    out = []
    for index, row in enumerate([header, *lines]):
        out.append("  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("only", nargs="*", help="bench modules to run, e.g. api_list (default: all)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the data set (default 10000)")
    args = parser.parse_args(argv)
    # WhiteNoise warns that collectstatic has not run; the benches serve no static files.
    warnings.filterwarnings("ignore", message="No directory at")

    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as workdir, throwaway_database(workdir) as db:
        modules = discover(args.only)
        if not modules:
            parser.error(f"no bench module matches {args.only}")
        print(f"database: {db.vendor}, rows: {args.rows}", flush=True)
        results = []
        for module in modules:
            results.extend(module.run(rows=args.rows))
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
