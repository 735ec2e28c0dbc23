# Set-up and everyday commands. `make run` and `make test` are the two the README promises.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config
STAMP := $(VENV)/.installed

.PHONY: run test lint install upgrade services bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

upgrade: install
	$(BIN)/aggregator --config $(CONFIG) db upgrade

# The daemon and the web view together (http://127.0.0.1:8791/); Ctrl-C stops both.
run: upgrade
	$(BIN)/aggregator --config $(CONFIG) web & web=$$!; \
	trap 'kill $$web 2>/dev/null; wait $$web 2>/dev/null' EXIT INT TERM; \
	$(BIN)/aggregator --config $(CONFIG) run

services:
	bash .ci/services.sh

test: install services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style and simple bugs (configuration in pyproject.toml); CI runs it before the tests.
lint: install
	$(BIN)/ruff check .

# Ingest speed and memory against a loopback corpus: BENCH_ARGS="--scales 1 4" for the curve.
bench: install services
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
