# Connector Workbench. `make run` serves a local copy with demo data (and runs a background worker for
# sandbox probes beside the web server, stopped with it); `make test` runs the suite.
# The virtualenv is a file target: a fresh clone (or a changed pyproject.toml) installs on first use.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CI_TOOLS := $(VENV)/ci/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
LOAD_SECONDS ?= 60

.PHONY: run test bench load lint install ci ci-tools

install: $(INSTALLED)

$(PY):
	$(PYTHON) -m venv $(VENV)

# The project is not a package (manage.py runs it from the work tree), so the dependencies listed in
# pyproject.toml are installed directly: the runtime ones plus the dev extra.
$(INSTALLED): pyproject.toml | $(PY)
	$(PY) .ci/requirements.py dev > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $@

# Tools only CI uses (schemathesis, locust), in a venv of their own inside .venv.
ci-tools: $(CI_TOOLS)

$(CI_TOOLS): pyproject.toml | $(PY)
	$(PYTHON) -m venv $(VENV)/ci
	$(PY) .ci/requirements.py --only ci > $(VENV)/ci/requirements.txt
	$(VENV)/ci/bin/python -m pip install --quiet --disable-pip-version-check -r $(VENV)/ci/requirements.txt
	touch $@

# The worker runs with --no-reload: with DEBUG on, db_worker reloads on code changes by default, which
# would restart it in the middle of a probe.
run: export DJANGO_DEBUG := 1
run: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_environment dev
	$(PY) manage.py create_local_staff --url http://$(HOST):$(PORT)/admin/
	$(PY) manage.py probes_recover
	$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Runs against DATABASE_URL when it is set (pytest-django creates and drops a test_ database there).
test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED)
	$(PY) -m tests.bench

# A bounded load on loopback (tests/load): a fresh PostgreSQL database workbench_load on 127.0.0.1:5432
# (LOAD_DATABASE_URL), gunicorn with 4 workers, locust for LOAD_SECONDS; prints throughput, p50/p99
# latency, errors and 5xx, and fails on any error or 5xx. `make load LOAD_SECONDS=15` is CI's.
load: $(INSTALLED) $(CI_TOOLS)
	LOAD_SECONDS=$(LOAD_SECONDS) $(PY) -m tests.load

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

ci:
	bash .ci/run
