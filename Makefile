# synthpipe: two commands on a fresh machine, `make run` and `make test`.
# Each creates the virtual environment it needs (pinned by constraints.txt) on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SPEC ?= configs/retail.yaml
ARGS ?=
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt
SOURCES := synthpipe flows tests benchmarks
EXTRAS ?=
RUNTIME := $(if $(EXTRAS),.[$(EXTRAS)],.)

.PHONY: install run test test-slow test-all lint docs format bench bench-generation bench-validation bench-commit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '$(RUNTIME)'
	touch $@

## install: the runtime environment only (EXTRAS=s3 adds object-storage support)
install: $(VENV)/.runtime

$(VENV)/.dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev,bench]'
	touch $(VENV)/.runtime $@

## run: generate the default dataset with the Prefect flow (SPEC=..., ARGS="--out ... --set ...")
run: $(VENV)/.runtime
	$(BIN)/synthpipe run $(SPEC) $(ARGS)

# pytest-xdist workers: one per core; each module's tests stay on one worker, so a module's
# shared world is built once
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope

## test: lint and type-check, build the docs, then the test suite (slow tests excluded; see test-all)
test: $(VENV)/.dev lint docs
	$(PYTEST)

## test-slow: the slow tests only (fault injection, crash and cluster runs, many seeds)
test-slow: $(VENV)/.dev
	$(PYTEST) -m slow

## test-all: every test, the slow ones too
test-all: $(VENV)/.dev lint docs
	$(PYTEST) -m ''

lint: $(VENV)/.dev
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy synthpipe
	$(BIN)/lint-imports

# the documentation site (mkdocs.yml); --strict: a warning, such as a broken link, fails it
# (NO_MKDOCS_2_WARNING: Material prints a notice of its end of life, May 2027, on every build)
SITE_DIR ?= site

## docs: build the documentation site into site/ (its reference pages are generated from the code)
docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(SITE_DIR)

format: $(VENV)/.dev
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

## bench: throughput and memory side by side with the peers (not a test)
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench.py $(ARGS)

## bench-generation: generation alone on one core, no writing (not a test)
bench-generation: $(VENV)/.dev
	$(BIN)/python benchmarks/generation.py $(ARGS)

## bench-commit: what a Delta or Iceberg commit costs at many files (not a test)
bench-commit: $(VENV)/.dev
	$(BIN)/python benchmarks/commit.py $(ARGS)

## bench-validation: what the fidelity report costs next to generation, per core (not a test)
bench-validation: $(VENV)/.dev
	$(BIN)/python benchmarks/validation.py $(ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
