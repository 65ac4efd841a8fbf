# nbreports: `make demo` runs the platform on its embedded defaults; `make test` runs every test.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-unit lint bench bench-quick bench-more clean images test-pods

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

install: $(VENV)/.installed  ## the Python environment, pinned by requirements.lock

demo: install  ## Airflow standalone with the example reports (SQLite, local store, local execution)
	scripts/demo.sh

test: install  ## every test: unit, Airflow on PostgreSQL, S3 endpoint, end to end
	scripts/test.sh

test-unit: install
	$(PY) -m pytest tests/unit -q

lint: install
	$(VENV)/bin/ruff check nbreports operators dags plugins tests
	$(VENV)/bin/mypy

bench: install  ## every benchmark against the peers (tables + goals; JSON in .bench/); < 15 min on 2 cores
	$(PY) -m bench

bench-quick: install  ## the benchmarks' smoke mode: 1 warm-up, 2 counted runs, smallest sizes
	$(PY) -m bench --quick

bench-more: install  ## the UI's run history at 100,000 runs, and pods vs the local engine
	@mkdir -p .bench
	$(PY) bench/bench_history.py --json .bench/history.json
	CONTAINERS_CONF=$(CURDIR)/images/containers.conf $(PY) -m bench.bench_pods

clean:
	rm -rf .demo .pytest_cache .mypy_cache .ruff_cache

images:  ## podman, a debootstrap base image and every team's kernel image (tags beta and ga)
	scripts/setup-podman.sh

test-pods: install images  ## real pods through the podman engine
	CONTAINERS_CONF=$(CURDIR)/images/containers.conf $(PY) -m pytest tests -m pods -q -p no:cacheprovider
