# Helix: `make demo` to see it, `make test` to prove it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOME_DIR ?= helix-data

.PHONY: install demo test test-slow lint bench screenshots clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install Helix with its dev tools

demo: $(STAMP)  ## generate a demo company, import it, run the pipeline, serve on :8000
	$(BIN)/helix --home $(HOME_DIR) demo

test: $(STAMP)  ## every suite but the slow ones (browser, schemathesis, decks), PostgreSQL included
	$(BIN)/pytest -n 2 --dist loadgroup -q -m "not slow" --durations=15

test-slow: $(STAMP)  ## the slow suites; .ci/run runs them after `make test`
	$(BIN)/pytest -n 2 --dist loadgroup -q -m slow --durations=15


lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)  ## benchmarks with generated data; JSON report in bench/results/
	$(BIN)/python bench/run.py

screenshots: $(STAMP)  ## browser tests against a demo server, saving docs/screenshots/*.png
	HELIX_SCREENSHOTS=docs/screenshots $(BIN)/pytest -n 0 -q tests/browser

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache bench/results
