# nbreports: `make demo` runs the platform on its embedded defaults; `make test` runs every test.
# `make help` lists the targets.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
LINT_PATHS := nbreports operators plugins dags tests bench

# The UI plugin's front end (TypeScript), built into plugins/nbreports_ui/static/ by scripts/build-frontend.sh
FRONTEND := plugins/nbreports_ui/frontend
FRONTEND_SRC := $(wildcard $(addprefix $(FRONTEND)/,package.json package-lock.json tsconfig.json vite.config.ts eslint.config.js)) \
	$(shell find $(FRONTEND)/src $(FRONTEND)/test -type f 2>/dev/null)
FRONTEND_OUT := plugins/nbreports_ui/static/app.js plugins/nbreports_ui/static/style.css
FRONTEND_STAMP := $(FRONTEND)/node_modules/.make-built

.PHONY: help install frontend demo test test-unit no-services-expr lint bench bench-quick bench-more capacity clean images test-pods FORCE

$(VENV)/.installed: requirements.lock pyproject.toml scripts/setup-build-deps.sh
	@scripts/setup-build-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Rebuilt when a front-end source, its lockfile or the script changed, or a built file is missing
# (the script itself also skips the build when nothing changed since the last one).
$(FRONTEND_STAMP): scripts/build-frontend.sh $(FRONTEND_SRC) $(if $(filter-out $(wildcard $(FRONTEND_OUT)),$(FRONTEND_OUT)),FORCE) | $(VENV)/.installed
	scripts/build-frontend.sh
	@touch $@

help:  ## this list of targets
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z][a-zA-Z_-]*:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(VENV)/.installed $(FRONTEND_STAMP)  ## the Python environment, pinned by requirements.lock, and the UI's front end

frontend: $(FRONTEND_STAMP)  ## only the UI's front end: npm ci, lint, tests, build into plugins/nbreports_ui/static/

demo: install  ## Airflow (api-server, scheduler, dag-processor, triggerer) on FAB logins with the example reports and demo users (SQLite, local store)
	scripts/demo.sh

test: install  ## every test: lint first, then unit, Airflow on PostgreSQL, S3 endpoint, end to end
	scripts/test.sh

test-unit: $(VENV)/.installed  ## the tests that need no service (no PostgreSQL, S3 endpoint, Airflow, pods, browser or fault injection)
	$(PY) -m pytest tests -q -p no:cacheprovider -m "$$($(MAKE) --no-print-directory -s no-services-expr)"

no-services-expr: $(VENV)/.installed  ## the -m expression of the tests that need no service (tests/conftest.py's NO_SERVICES)
	@$(PY) -c 'from tests.conftest import NO_SERVICES; print(NO_SERVICES)'

lint: $(VENV)/.installed  ## ruff check, ruff format --check and mypy --strict (the settings are in pyproject.toml)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

bench: install  ## every benchmark against the peers (tables + goals; JSON in .bench/); < 25 min on 2 cores
	$(PY) -m bench

bench-quick: install  ## the benchmarks' smoke mode: 1 warm-up, 2 counted runs, smallest sizes
	$(PY) -m bench --quick

bench-more: install  ## the UI's run history at 100,000 runs, pods vs the local engine, 200 runs at once through Airflow
	@mkdir -p .bench
	$(PY) bench/bench_history.py --json .bench/history.json
	CONTAINERS_CONF=$(CURDIR)/images/containers.conf $(PY) -m bench.bench_pods
	$(PY) -m bench --only load

capacity: install  ## the capacity plan's inputs (docs/capacity.md): DB rows/bytes and store objects per run, Airflow rows, DAG parse cost (~15 min; not in make bench)
	$(PY) -m bench.capacity

clean:  ## remove the demo's state and the tools' caches (not .venv, nor node_modules)
	rm -rf .demo .pytest_cache .mypy_cache .ruff_cache

images:  ## podman, a debootstrap base image and every team's kernel image (tags beta and ga)
	scripts/setup-podman.sh

test-pods: install images  ## real pods through the podman engine
	CONTAINERS_CONF=$(CURDIR)/images/containers.conf $(PY) -m pytest tests -m pods -q -p no:cacheprovider
