# digiops — `make demo` and `make test` do everything on a fresh machine. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.digiops-installed
PYTEST_ARGS ?=
# one pytest-xdist worker per core, longest test files first (tests/conftest.py); `make test PYTEST_XDIST=` is serial
PYTEST_XDIST ?= -n auto --dist loadfile --no-loadscope-reorder

.PHONY: help setup demo test lab bench dashboard clean

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## //' | awk -F': ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	@touch $(STAMP)

## setup: create .venv, install the package and its dependencies, generate the demo client's data (idempotent)
setup: $(STAMP)
	$(BIN)/digiops demo-data --if-missing

## demo: set up, then run the whole demo engagement and print the report index it wrote
demo: setup
	$(BIN)/digiops run demo

## test: set up, then run the whole test suite (slow and browser tests included)
test: setup
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

## lab: JupyterLab on the stage notebooks, with the project's environment as kernel
# Jupyter refuses to start as root (a container's usual user) unless told --allow-root; only then is it told.
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

## bench: run the benchmarks in bench/ (not part of the tests); figures go into docs/PERFORMANCE.md
bench: setup
	@set -e; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

## dashboard: serve the latest successful demo run as a Voila dashboard (its sign-in link with a new access code is printed)
dashboard: setup
	$(BIN)/digiops dashboard demo

## clean: remove the virtual environment and rendered reports (client data is never touched)
clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
