# Attest — the two commands: `make run` (demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Reinstall whenever pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install run test lint format typecheck check-migrations bench clean

help:
	@echo "make run     start Attest with demo data on http://127.0.0.1:8000 (web + worker + beat)"
	@echo "make test    lint, type-check and run the whole suite against PostgreSQL and Redis"
	@echo "make bench   run the benchmarks in benchmarks/ and print their figures"
	@echo "make lint | format | typecheck | clean"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: $(STAMP)
	./scripts/run-dev.sh

test: $(STAMP)
	./scripts/test.sh $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	ATTEST_TESTING=true $(VENV)/bin/mypy compliance controls evidence policies people vendors

bench: $(STAMP)
	./scripts/bench.sh

clean:
	rm -rf var test-results .pytest_cache .mypy_cache .ruff_cache
