# One entry point. On a fresh machine with only Python 3.11+:
#   make run    set up .venv and run the main job (all studies on the shipped data -> reports/)
#   make test   set up .venv and run the whole test suite (lint, unit, property, doctests,
#               the Spark engine against DuckDB: needs Java 17+, as on the CI machine)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Extras installed into .venv: the tests also need the Spark engine (make run does not).
EXTRAS ?= dev
comma  := ,

NBVAL  := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: setup run test test-fast lint notebooks bench bench-scale clean

# Installs once per set of extras, again when pyproject.toml changes.
setup:
	@stamp=$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)); \
	if [ ! -f $$stamp ] || [ pyproject.toml -nt $$stamp ]; then \
		set -e; \
		[ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
		$(PY) -m pip install --quiet --upgrade pip; \
		$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"; \
		touch $$stamp; \
	fi

run: setup
	$(PY) -m analysis run

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

test: EXTRAS = dev,spark
test: lint
	$(PY) -m pytest -n 2 --dist loadfile
	$(PY) -m pytest $(NBVAL) notebooks/

# Everything but the end-to-end runs (notebooks executed), the slow statistical checks and the
# tests that start Spark or PostgreSQL: quick feedback while working (make test runs them all).
test-fast: EXTRAS = dev,spark
test-fast: lint
	$(PY) -m pytest -n 2 -m "not e2e and not slow and not engines"

# Re-execute the study notebooks in place (when their results change on purpose),
# so that the outputs nbval checks are the current ones.
notebooks: setup
	$(PY) -c "from analysis.studies.registry import write_parameters_cells; write_parameters_cells()"
	for nb in notebooks/[0-9]*.ipynb; do $(VENV)/bin/papermill $$nb $$nb -k python3 --log-level WARNING || exit 1; done

bench: setup
	$(PY) benchmarks/bench_summaries.py

# 1M to 50M rows: DuckDB vs pandas vs bare DuckDB, Spark at 1M/10M (about 15 min; pandas at 50M needs ~11 GB).
bench-scale: EXTRAS = dev,spark
bench-scale: setup
	$(PY) benchmarks/bench_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
