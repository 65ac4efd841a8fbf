# nbreports: `make demo` runs the platform on its embedded defaults; `make test` runs every test.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-unit lint bench clean

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

clean:
	rm -rf .demo .pytest_cache .mypy_cache .ruff_cache
