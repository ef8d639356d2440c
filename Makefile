# The two commands of the README:
#   make demo   set up a virtualenv, start the embedded stack and run the example pipeline
#   make test   set up the virtualenv and run the test suite against PostgreSQL and a real Prefect server
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo up test unit lint e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	bash scripts/ensure-sandbox.sh
	$(VENV)/bin/resolwe-prefect demo

up: $(STAMP)
	bash scripts/ensure-sandbox.sh
	$(VENV)/bin/resolwe-prefect up

lint: $(STAMP)
	$(VENV)/bin/ruff check resolwe_prefect django_project tests bench deployments
	$(VENV)/bin/ruff format --check resolwe_prefect django_project tests bench deployments
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: $(STAMP) lint
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-sandbox.sh
	bash scripts/ensure-docker.sh
	bash scripts/ensure-browser.sh
	$(VENV)/bin/python -m pytest

unit: $(STAMP)
	bash scripts/ensure-sandbox.sh
	$(VENV)/bin/python -m pytest -m "not e2e"

bench: $(STAMP)
	$(VENV)/bin/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf .resolwe-prefect
