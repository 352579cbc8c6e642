# Every target installs what it needs; `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# jsii warns that Node 20 is end-of-life on every call; the warning is not ours to fix.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install demo test lint typecheck imports unit synth cfn-lint bench clean

help:
	@echo "make demo   - install, then run the synthesized app against an embedded AWS (moto)"
	@echo "make test   - install, then ruff, mypy, pytest, cdk synth (with cdk-nag) and cfn-lint"
	@echo "make synth  - install, then synthesize the app into cdk.out/"
	@echo "make bench  - install, then print the cost benchmark (not part of make test)"

$(PY_STAMP): requirements.txt requirements-dev.txt lambdas/vpc_flow_logs_rule/requirements.txt \
  pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	# The project itself, editable: the vpc-flow-logs-guard command (pyproject.toml).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 \
	  | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PY_STAMP) $(NODE_STAMP)

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy .

# import-linter contracts (pyproject.toml): the packages from this tree, not the editable install.
imports: $(PY_STAMP)
	PYTHONPATH=$(CURDIR):$(CURDIR)/lambdas:$(CURDIR)/ssm_documents/scripts $(BIN)/lint-imports --no-cache

# The end-to-end tests (tests/e2e) synthesize with the pinned CDK CLI, hence node_modules.
unit: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/pytest

# cdk-nag runs inside the synth (app.py registers it); a finding fails the synth.
synth: install
	npx cdk synth --quiet --output cdk.out

cfn-lint: synth
	$(BIN)/cfn-lint cdk.out/*.template.json

test: lint typecheck imports unit cfn-lint

demo: install
	$(PY) -m local_aws.demo

bench: install
	$(PY) tests/benchmarks/run.py
	$(PY) tests/benchmarks/audit.py

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .ruff_cache .pytest_cache
