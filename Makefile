# Prism's entry points for people and CI. Needs only Python 3.11+ and make: the first call
# creates .venv, installs uv into it and installs the locked dependencies (uv.lock).
PYTHON ?= python3
VENV ?= .venv
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
STAMP := $(VENV)/.installed-stamp
BIN := $(VENV)/bin

.PHONY: help install run test lint typecheck schema migration simulator clean

help:
	@echo "make run        start the whole system on the embedded default (http://127.0.0.1:8000/graphql)"
	@echo "                ports: PORT, SMTP_PORT, AUTOTASK_SIM_PORT (.venv/bin/prism dev --help)"
	@echo "make test       run lint and the whole test suite (embedded default, then PostgreSQL + Redis if reachable)"
	@echo "make lint       ruff, mypy and the import rules (.importlinter)"
	@echo "make schema     rewrite schema.graphql from the code"
	@echo "make migration  autogenerate a migration: make migration m='what changed'"
	@echo "make simulator  run the local Autotask simulator on its own"

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Prism needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(BIN)/uv sync --frozen --quiet
	@touch $@

run: $(STAMP)
	@$(BIN)/prism dev

test: $(STAMP)
	@bash scripts/test.sh

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/mypy libs services
	@$(BIN)/lint-imports --no-cache

typecheck: lint

schema: $(STAMP)
	@$(BIN)/prism schema --write

migration: $(STAMP)
	@test -n "$(m)" || (echo "usage: make migration m='what changed'" && exit 2)
	@$(BIN)/alembic upgrade head && $(BIN)/alembic revision --autogenerate -m "$(m)"

simulator: $(STAMP)
	@$(BIN)/python -m autotask_sim

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
