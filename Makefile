# recon — every target creates or updates the environment from uv.lock first.
# A fresh machine needs only python3 (3.11) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.synced
PYTHON     ?= python3.11
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(VENV)
export AIRFLOW__CORE__LOAD_EXAMPLES := False
DEMO_DIR   ?= demo-output

.PHONY: help env test demo airflow lint bench bench-quick lock clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON) --compile-bytecode
	@touch $@

env: $(STAMP)  ## create or update .venv from uv.lock (bytecode compiled)

test: $(STAMP)  ## run the whole test suite
	$(VENV)/bin/pytest

demo: $(STAMP)  ## the core on a sample pair, then aum_recon on Airflow against local servers
	PYTHONPATH=include:plugins $(PY) -m recon_local.demo --out $(DEMO_DIR)

airflow: $(STAMP)  ## Airflow UI (admin/admin on :8080) wired to local servers, seeded; Ctrl-C stops
	PYTHONPATH=include:plugins $(PY) -m recon_local.airflow

lint: $(STAMP)  ## ruff (with the AIR rules) and mypy on include/ and plugins/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy include/recon include/worlds include/embedded include/recon_local plugins/recon_airflow

bench: $(STAMP)  ## benchmarks against DuckDB, polars, pandas, datacompy (1M and 10M rows)
	$(PY) bench/run.py --sizes 1000000 10000000

bench-quick: $(STAMP)  ## the same benchmark at 100k rows (a smoke run)
	$(PY) bench/run.py --sizes 100000

lock: | $(UV)  ## re-resolve uv.lock and regenerate the pinned requirements.txt
	$(UV) lock --python $(PYTHON)
	$(UV) export --frozen --no-dev --no-emit-project --format requirements-txt -o requirements.txt --quiet

clean:  ## remove environments and generated output
	rm -rf $(VENV) $(TOOLS) $(DEMO_DIR) .airflow-local .pytest_cache .mypy_cache .ruff_cache
