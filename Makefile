# One entry point. On a fresh machine with only Python 3.11+:
#   make run    set up .venv and run the main job (all studies on the shipped data -> reports/)
#   make test   set up .venv and run the whole test suite (lint, unit, property, doctests)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: setup
	$(PY) -m analysis run

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

test: lint
	$(PY) -m pytest -n 2 --dist loadfile

bench: setup
	$(PY) benchmarks/bench_summaries.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
