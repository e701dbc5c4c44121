"""Benchmarks: `python -m tests.bench` (or `make bench`) prints one table of ratios subject/baseline.

Each `bench_*.py` module here exposes `run(*, rows)` returning rows of
(name, baseline seconds, subject seconds): the subject is what the product does (e.g. a real API
request), the baseline the least work that produces the same data. The runner builds a throw-away
database for them (a temporary SQLite file, or a `test_` database beside DATABASE_URL) and drops it
afterwards. pytest never collects these modules (they are not named test_*.py).
"""
