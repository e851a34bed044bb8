# fundapp: the two commands a newcomer needs are `make run` and `make test`.
# Needs only Python 3.11+, make and git; everything else is installed into $(VENV).

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000

BIN := $(VENV)/bin
# Installed when pyproject.toml or constraints.txt changes, not on every run.
STAMP := $(VENV)/.fundapp-installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migration initial-migration clean

help:
	@echo "make run                   install, upgrade the database, load reference and demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test                  install, ruff check, pytest on SQLite (and on PostgreSQL when FUNDAPP_TEST_DATABASE_URL is set)"
	@echo "make install               create $(VENV) and install fundapp with its test tools"
	@echo "make format                ruff format and ruff check --fix"
	@echo "make migration m=\"...\"     generate a migration from the models (then read it)"
	@echo "make initial-migration     regenerate the initial migration from scratch (before the first release only)"

install: $(STAMP)
	@PYBABEL=$(BIN)/pybabel scripts/translations compile

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fundapp needs Python 3.11 or newer; this is " + sys.version.split()[0] + ". Run make with PYTHON=python3.11 (or newer).")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $@

run: install
	$(BIN)/fundapp db upgrade
	$(BIN)/fundapp reference load
	$(BIN)/fundapp seed-demo
	@echo "fundapp is serving on http://$(HOST):$(PORT) (Ctrl-C stops it)"
	$(BIN)/fundapp run --host $(HOST) --port $(PORT)

# The suite runs on SQLite first; then, when FUNDAPP_TEST_DATABASE_URL is set, again on PostgreSQL.
# Browser tests use their own SQLite file, so the PostgreSQL pass leaves them out; tests marked
# `postgres` need that database, so the SQLite pass leaves them out.
test: install
	$(BIN)/ruff check .
	env -u FUNDAPP_TEST_DATABASE_URL $(BIN)/python -m pytest -m "not postgres" $(PYTEST_ARGS)
	@if [ -n "$$FUNDAPP_TEST_DATABASE_URL" ]; then \
		echo "Running the suite again on PostgreSQL"; \
		$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS); \
	else \
		echo "FUNDAPP_TEST_DATABASE_URL is not set: the suite ran on SQLite only."; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Generate a revision against a throwaway SQLite database upgraded to head, then prove it:
# no drift left, and downgrade one step and upgrade again both work.
migration: install
	@test -n "$(m)" || { echo 'Say what changed: make migration m="add tranche due date"'; exit 2; }
	FUNDAPP=$(BIN)/fundapp scripts/new-migration "$(m)"

initial-migration: install
	FUNDAPP=$(BIN)/fundapp scripts/regenerate-initial-migration

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
