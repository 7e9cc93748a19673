# The commands people type. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PROTO_SRC := $(wildcard protos/ruleiq/data/v1/*.proto)
PYTEST_ARGS ?=

.PHONY: help install run test test-db lint format proto proto-check migrate migrate-down lock clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements/dev.lock pyproject.toml protos/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/python -m pip install -qq --disable-pip-version-check --no-deps --no-build-isolation -e . -e ./protos
	@touch $@

install: $(INSTALLED) ## Create .venv from the lock file (run and test do this themselves)

run: $(INSTALLED) ## Serve on GRPC_PORT (50051); embedded PostgreSQL when DATABASE_URL is unset
	$(BIN)/python -m service serve

test: $(INSTALLED) ## Run the whole test suite (embedded PostgreSQL unless TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-db: $(INSTALLED) ## Run only the tests that touch PostgreSQL
	$(BIN)/python -m pytest -m db $(PYTEST_ARGS)

lint: $(INSTALLED) ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

proto: $(INSTALLED) ## Regenerate the Python client code (and .pyi stubs) from protos/
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grpc_tools.protoc -I protos -I $$($(BIN)/python -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent.parent)') \
		--python_out=protos --pyi_out=protos --grpc_python_out=protos --mypy_grpc_out=protos --mypy_grpc_opt=quiet $(PROTO_SRC)

proto-check: proto ## Fail when the committed generated code differs from the protos
	@git diff --exit-code --stat -- protos || { echo "generated code is stale: run make proto and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- protos)" || { git status --porcelain -- protos; echo "untracked generated files: run make proto and commit"; exit 1; }

migrate: $(INSTALLED) ## Apply migrations up to head (embedded PostgreSQL when DATABASE_URL is unset)
	$(BIN)/python -m service migrate head

migrate-down: $(INSTALLED) ## Roll back one migration (REVISION=base for all)
	$(BIN)/python -m service downgrade $${REVISION:--1}

MIGRATION_SCRIPTS ?= alembic
.PHONY: migration-lint
migration-lint: $(INSTALLED) ## squawk on each migration's SQL (alembic upgrade --sql)
	$(BIN)/python -m repositories.migration_lint --script-location $(MIGRATION_SCRIPTS)

.PHONY: bench bench-pool bench-workers bench-watch
bench: $(INSTALLED) ## Measure the service against its performance goals, the watch rows too (~7 min; BENCH_QUICK=1 ~2 min)
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench --watch

bench-pool: $(INSTALLED) ## get/update ops/s and p99 per DB_POOL_SIZE (BENCH_POOL_SIZES=5,10,20,40)
	$(BIN)/python -m tests.bench --pool

bench-workers: $(INSTALLED) ## get/create ops/s, p50, p99 per GRPC_WORKERS, and the ratio (BENCH_WORKERS=1,2)
	$(BIN)/python -m tests.bench --workers

bench-watch: $(INSTALLED) ## Only the watch rows: server CPU with 1,000 idle WatchChanges streams; create with/without them; delivery lag
	$(BIN)/python -m tests.bench --watch

lock: $(INSTALLED) ## Re-resolve requirements/*.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 --quiet -o requirements/runtime.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra embedded -c requirements/runtime.lock --generate-hashes --universal --python-version 3.11 --quiet -o requirements/dev.lock

clean: ## Remove .venv and caches (keeps .data, the embedded database)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# API hygiene with buf (buf.yaml): no BSR, so the googleapis protos the API imports
# are copied from the installed googleapis-common-protos into build/googleapis.
BUF := $(BIN)/buf
API_IMAGE := protos/api-image.binpb
GOOGLEAPIS := build/googleapis

.PHONY: buf-lint buf-breaking api-image
$(GOOGLEAPIS)/.copied: $(INSTALLED)
	@rm -rf $(GOOGLEAPIS)
	@src=$$($(BIN)/python -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent)'); \
	for d in api type rpc; do mkdir -p $(GOOGLEAPIS)/google/$$d && cp $$src/$$d/*.proto $(GOOGLEAPIS)/google/$$d/; done
	@touch $@

buf-lint: $(GOOGLEAPIS)/.copied ## buf lint protos/ (buf.yaml: STANDARD, AIP-style responses allowed)
	$(BUF) lint protos

buf-breaking: $(GOOGLEAPIS)/.copied ## Fail on changes that break callers of the released API (protos/api-image.binpb)
	$(BUF) breaking protos --against $(API_IMAGE)

api-image: $(GOOGLEAPIS)/.copied ## Record protos/ as the released API for buf-breaking (on purpose; commit it)
	$(BUF) build protos --exclude-source-info -o $(API_IMAGE)
