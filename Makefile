# Attest — the two commands: `make run` (demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Reinstall whenever pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The test suite's npm tools (package.json: the MDN HTTP Observatory), reinstalled on lock changes.
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

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

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed for the test tools (apt-get install npm)"; exit 2; }
	npm ci --no-audit --no-fund
	@# The Observatory grades HSTS against Chromium's preload list, which its install script (not
	@# run: .npmrc) would download. No loopback host is on it, so offline the list is empty.
	echo '{}' > node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json
	@touch $@

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP)
	./scripts/run-dev.sh

test: $(STAMP) $(NODE_STAMP)
	./scripts/test.sh $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	ATTEST_TESTING=true $(VENV)/bin/mypy compliance controls evidence policies people vendors audits trust

bench: $(STAMP)
	./scripts/bench.sh $(ARGS)

clean:
	rm -rf var test-results .pytest_cache .mypy_cache .ruff_cache node_modules
