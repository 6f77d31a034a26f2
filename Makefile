# Sinergi: two commands for a newcomer (make demo, make test); the rest are building blocks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY ?= False
export AIRFLOW__OPENLINEAGE__DISABLED ?= True
export GX_ANALYTICS_ENABLED ?= False
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= False

.PHONY: help setup demo test test-fast lint format airflow bench clean

help:
	@echo "make demo   - set up, generate a 3-month sample inbox, run the monthly DAG, print a summary"
	@echo "make test   - set up, run the whole test suite"
	@echo "make setup  - create .venv from uv.lock and Airflow's local metadata database"
	@echo "make lint   - ruff (lint + format check) and sqlfluff on the dbt models"
	@echo "make bench  - province-scale benchmark vs a bare psql \\copy (bench/README.md; ~1 h)"
	@echo "make airflow- Airflow's own UI on http://localhost:8080 (airflow standalone)"
	@echo "make up / make down - the production docker compose stack (docs/production.md)"

# uv is bootstrapped into .tools/ when it is not installed.
$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: every package's .pyc is written once here. Without it a process imports
# Airflow, pandas, GX and dbt from source whenever .pyc files cannot be written next to them
# (PYTHONDONTWRITEBYTECODE=1, a read-only venv): measured 16.2 s vs 6.8 s for that import, in
# every `sinergi run`, task process and worker (docs/performance.md).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@

$(AIRFLOW_HOME)/.migrated: $(VENV)/.synced
	@mkdir -p $(AIRFLOW_HOME)
	@echo "migrating Airflow's metadata database in $(AIRFLOW_HOME) ..."
	$(BIN)/airflow db migrate > /dev/null
	@touch $@

setup: $(VENV)/.synced $(AIRFLOW_HOME)/.migrated
	@$(BIN)/python -m compileall -q include dags > /dev/null
	@$(BIN)/python -m sinergi.dbt parse --if-stale

demo: setup
	$(BIN)/sinergi demo

test: setup
	$(BIN)/pytest -n 2 --dist loadfile

test-fast: setup
	$(BIN)/pytest -n 2 -m "not integration"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# two processes: 12 s -> 6.5 s here; the filter hides multiprocessing's shutdown notice
	@# about semaphores sqlfluff's pool leaves (benign, and only sometimes printed)
	PYTHONWARNINGS=ignore::UserWarning:multiprocessing.resource_tracker \
	  $(BIN)/sqlfluff lint --processes 2 dbt_project/models dbt_project/data-tests

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Province-scale benchmark (bench/README.md). Big stages once by default, the history's timed
# months three times (BENCH_HISTORY_REPEATS); BENCH_* tune it.
bench: setup
	BENCH_REPEATS_BIG=$${BENCH_REPEATS_BIG:-1} $(BIN)/python -m bench.run

# `airflow standalone` starts its components as subprocesses named `airflow`: the venv must be
# on PATH. LocalExecutor starts one worker per parallelism slot (32 by default): 2 here.
airflow: setup
	PATH="$(BIN):$$PATH" AIRFLOW__CORE__PARALLELISM="$${AIRFLOW__CORE__PARALLELISM:-2}" \
	  $(BIN)/airflow standalone

clean:
	rm -rf .data .airflow dbt_project/target dbt_project/logs

# --- production stack (docker-compose.yml; see docs/production.md) -------------------------
COMPOSE ?= docker-compose
.PHONY: env check-env up down ps logs

env:  ## write .env from .env.example with fresh random secrets (never overwrites)
	python3 docker/make_env.py .env

check-env:  ## refuse placeholder or weak secrets
	bash docker/preflight.sh .env

# WORKERS=N: N Celery workers (profile celery, docs/production.md "Scaling out").
up: check-env
	$(COMPOSE) build airflow-init
	$(COMPOSE) up -d $(if $(WORKERS),--scale airflow-worker=$(WORKERS))
	$(COMPOSE) ps

down:  ## stops the stack; volumes (warehouse, archive, reports) are kept
	$(COMPOSE) down

ps:
	$(COMPOSE) ps

logs:
	$(COMPOSE) logs -f --tail=200
