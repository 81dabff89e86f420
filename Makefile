# Two commands for a newcomer: `make run` and `make test`. Everything else is detail.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate lock clean bench soak

help:
	@echo "make run    set up, migrate and serve on HOST:PORT (SQLite by default)"
	@echo "make test   set up and run the whole test suite with coverage"
	@echo "make lint   ruff, mypy and the import-layer rule"
	@echo "make bench  HexaHub against the FastAPI references (about 20 min; BENCH_ARGS=--quick)"
	@echo "make soak   10 minutes of mixed traffic: does memory stay flat? (SOAK_ARGS=--minutes N)"

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

run: $(VENV)/.installed-runtime
	$(BIN)/hexahub migrate
	$(BIN)/hexahub serve

migrate: $(VENV)/.installed-runtime
	$(BIN)/hexahub migrate

test: $(VENV)/.installed-dev
	$(BIN)/pytest --cov --cov-report=term --cov-report=xml:var/coverage.xml $(PYTEST_ARGS)
	$(BIN)/python -m tests.coverage_gate var/coverage.xml

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests migrations bench
	$(BIN)/ruff format src tests migrations bench

# The benchmark needs wrk (a C load generator) and taskset; on Debian and Ubuntu they are
# installed when missing, elsewhere the line says what to install.
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; }; } || \
		{ echo "make bench needs wrk: install it (apt-get install wrk, brew install wrk)"; exit 1; }
	$(BIN)/python -u bench/perf.py $(BENCH_ARGS)

soak: $(VENV)/.installed-dev
	$(BIN)/python -u bench/soak.py $(SOAK_ARGS)

# Re-pin after changing dependencies in pyproject.toml.
lock: $(VENV)/.installed-dev
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras \
		-o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras \
		--extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var/coverage.xml
