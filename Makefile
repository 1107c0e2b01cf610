# One entry point. On a fresh machine with only Python 3.11+:
#   make run    set up .venv and run the main job (all studies on the shipped data -> reports/)
#   make test   set up .venv and run the whole test suite (lint, unit, property, doctests)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: setup run test lint notebooks bench clean

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
	$(PY) -m pytest $(NBVAL) notebooks/

# Re-execute the study notebooks in place (when their results change on purpose),
# so that the outputs nbval checks are the current ones.
notebooks: setup
	for nb in notebooks/[0-9]*.ipynb; do $(VENV)/bin/papermill $$nb $$nb -k python3 --log-level WARNING || exit 1; done

bench: setup
	$(PY) benchmarks/bench_summaries.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
