# Kizuna: the two commands a new user runs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster
export KIZUNA_HOME := $(CURDIR)

.PHONY: install demo ui mlflow test test-quick lint bench clean postgres

$(BIN)/kizuna: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Kizuna needs Python 3.11 (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/kizuna  ## create .venv and install the project with its test tools

# The `spark` extra (pyspark, dbt-spark; about 0.5 GB) for the slow Spark portability test only.
$(VENV)/.spark-extra: $(BIN)/kizuna
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $@

demo: install  ## generate the sample world and materialize every asset on DuckDB
	$(BIN)/kizuna demo

ui: install  ## the Dagster UI on http://127.0.0.1:3000, same instance as the demo
	$(BIN)/kizuna dagster-home
	$(BIN)/dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000

mlflow: install  ## the MLflow UI on http://127.0.0.1:5000 over the embedded store the demo logged to
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow/mlflow.db \
		--default-artifact-root $(CURDIR)/data/mlflow/artifacts -h 127.0.0.1 -p 5000

postgres:  ## install (apt) and start the local PostgreSQL the CRM connector tests use
	scripts/postgres.sh

test: install $(VENV)/.spark-extra  ## lint, check the definitions load, start PostgreSQL, run every test
	scripts/run_tests.sh

test-quick: install  ## the fast subset: no slow end-to-end tests
	scripts/run_tests.sh -m "not slow"

lint: install
	$(BIN)/ruff check .

bench: install  ## every benchmark at its quick size
	for b in ingest identity journeys models activation; do $(BIN)/python benchmarks/$$b.py --quick || exit 1; done

clean:  ## remove generated data, the warehouse and the Dagster instance (keeps .venv)
	rm -rf data .dagster
