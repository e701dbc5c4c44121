"""The load check: `python -m tests.load` (or `make load`) runs locustfile.py against a production-mode
gunicorn on loopback, on a PostgreSQL database it creates and drops. pytest never collects these modules
(they are not named test_*.py)."""
