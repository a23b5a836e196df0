# Weitblick — the two commands: `make demo` and `make test`.
# Needs only Python 3.12 (selected by .python-version); installs uv and the locked environment.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# Installed packages are compiled to bytecode once, at install: the commands, the notebook kernel
# and the worker processes then start without compiling Dagster and pandas again each time.
export UV_COMPILE_BYTECODE := 1
export WEITBLICK_HOME ?= $(CURDIR)/var
export DAGSTER_HOME ?= $(WEITBLICK_HOME)/dagster_home
RUN := $(UV) run --frozen --no-sync

.PHONY: help install home demo test test-fast lint ui lab validate bench notebooks clean

help:
	@echo "make demo      install what is missing, run the refresh on the demo company"
	@echo "make test      run the whole test suite"
	@echo "make test-fast unit and property tests only (the inner loop)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make ui        Dagster UI on http://127.0.0.1:3000"
	@echo "make lab       JupyterLab on notebooks/"
	@echo "make validate  dagster definitions validate"

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), f"Python 3.12 needed, found {sys.version.split()[0]}"'
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: .venv/.synced

# WEITBLICK_HOME with its Dagster instance and the dagster.yaml the project writes (no telemetry)
home: install
	@$(RUN) python -m pipelines.store > /dev/null

demo: home
	$(RUN) weitblick demo

# Two or more processes (pytest-xdist): most end-to-end tests leave a core idle on their own.
test: install
	$(RUN) pytest -n auto --dist worksteal

test-fast: install
	$(RUN) pytest -m "not slow"

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

validate: home
	$(RUN) dagster definitions validate -m pipelines.definitions

# make ui DATA=DIR serves DIR's workspace (WEITBLICK_DATA); the weekly refresh runs unless stopped
ui: home
	$(if $(DATA),WEITBLICK_DATA=$(abspath $(DATA)),) $(RUN) dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

# The paired .py notebooks open as notebooks (jupytext as the default viewer of Python files) and
# JupyterLab asks no news questions: the settings overrides in .jupyter/lab/overrides.json.
lab: install
	$(RUN) jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --no-browser --LabApp.app_settings_dir=$(CURDIR)/.jupyter/lab $(if $(filter 0,$(shell id -u)),--allow-root)

notebooks: install
	$(RUN) jupytext --sync notebooks/*.py

clean:
	rm -rf var reports .pytest_cache
