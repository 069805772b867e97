# Every target sets up what it needs first; `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ENV ?= local
CACHE := $(CURDIR)/.cache
PIPENV_VERSION := 2026.10.3
CDKTF_CLI_VERSION := 0.21.0
AWS_PROVIDER_VERSION := 5.100.0

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_VERBOSITY := -1
export CHECKPOINT_DISABLE := 1
export TF_IN_AUTOMATION := 1
export TF_CLI_CONFIG_FILE := $(CACHE)/terraform.rc
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CACHE)/jsii
# jsii prints a banner on every run under Node 20 (end of life); the runtime still works with it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CACHE)/npm/node_modules/.bin:$(CACHE)/pipenv/bin:$(PATH)

PIPENV := $(CACHE)/pipenv/bin/pipenv
PY := .venv/bin/python
STACKCTL := $(PY) -m tools.stackctl
# -O drops the provider bindings' per-call typeguard checks (tests keep them); bytecode is written so the
# optimized .pyc of the provider modules are compiled once (see synth/fast_import.py).
SYNTH := PYTHONDONTWRITEBYTECODE= $(PY) -O main.py

.PHONY: help setup cdktf-cli synth validate plan deploy destroy bootstrap drift up down serve test test-unit \
        test-emulator lint format docs bench emulator-start emulator-stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(PIPENV):
	python3 -m venv $(CACHE)/pipenv
	$(CACHE)/pipenv/bin/python -m pip install --quiet pipenv==$(PIPENV_VERSION)

.venv/.synced: Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	touch $@

$(TF_CLI_CONFIG_FILE): tools/terraform_cli_config.sh
	tools/terraform_cli_config.sh $@ $(CACHE) $(AWS_PROVIDER_VERSION)

$(CACHE)/checkov/.installed: tools/checkov-requirements.txt
	python3 -m venv $(CACHE)/checkov
	$(CACHE)/checkov/bin/python -m pip install --quiet -r tools/checkov-requirements.txt
	touch $@

setup: .venv/.synced $(TF_CLI_CONFIG_FILE) $(CACHE)/checkov/.installed ## Install everything from the lock files (idempotent)
	@if [ "$${WITH_CDKTF_CLI:-0}" = 1 ]; then $(MAKE) cdktf-cli; fi

cdktf-cli: ## Install the optional cdktf CLI project-locally (then `cdktf synth`, `cdktf deploy <stack>`)
	npm install --no-save --no-audit --no-fund --prefix $(CACHE)/npm cdktf-cli@$(CDKTF_CLI_VERSION)
	@echo "cdktf CLI: $(CACHE)/npm/node_modules/.bin/cdktf (on PATH inside make)"

synth: setup ## Synthesize every stack into cdktf.out/
	$(SYNTH)

validate: synth ## terraform init -backend=false + validate on every stack
	$(STACKCTL) validate

bootstrap: synth ## Create the remote-state bucket for ENV's account (BOOTSTRAP_ENV=$(ENV))
	BOOTSTRAP_ENV=$(ENV) $(SYNTH)
	BOOTSTRAP_ENV=$(ENV) $(STACKCTL) apply bootstrap

plan: synth ## terraform plan of ENV's stack (local, dev, prod)
	$(STACKCTL) plan $(ENV)

deploy: synth ## terraform apply of ENV's stack
	$(STACKCTL) apply $(ENV)

destroy: synth ## terraform destroy of ENV's stack
	$(STACKCTL) destroy $(ENV)

drift: synth ## Report drift between ENV's state and what is deployed (exit 2 on drift)
	$(STACKCTL) drift $(ENV)

emulator-start: synth ## Start the local AWS emulator on EMULATOR_PORT (the port the local stack points at)
	$(PY) -m tools.emulator start

emulator-stop: ## Stop the local AWS emulator
	@if [ -x $(PY) ] && [ -f cdktf.out/manifest.json ]; then $(PY) -m tools.emulator stop; fi

up: synth emulator-start ## Emulator + bootstrap + deploy the local stack, print its outputs, call the API
	$(PY) -m tools.devloop up

serve: setup ## Run the local API (packaged handler behind an API Gateway-like HTTP server)
	$(PY) -m tools.local_api

down: ## Destroy the local stack, stop the emulator and the local API, remove what `up` made
	@if [ -x $(PY) ] && [ -f cdktf.out/manifest.json ]; then $(PY) -m tools.devloop down || true; fi
	$(MAKE) emulator-stop
	rm -rf .state/*-local.tfstate* cdktf.out/stacks/*/.terraform cdktf.out/stacks/*/.terraform.lock.hcl $(CACHE)/emulator \
	       $(CACHE)/local-api

test: setup ## Every test: unit, synth, terraform, checkov and emulator
	$(PY) -m pytest -n 2 --dist loadgroup

test-unit: setup ## The fast inner loop: no terraform, no emulator
	$(PY) -m pytest -m "not emulator and not terraform and not checkov and not slow" -n 2

test-emulator: setup ## Only the tests that apply to the emulator
	$(PY) -m pytest -m emulator

lint: setup ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup ## Format every Python file (ruff format) and apply ruff's safe fixes
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

docs: setup ## Regenerate the README's module reference from the docstrings in modules/
	$(PY) -m tools.reference

bench: setup ## Measure synth, tests, apply, handler and log cost; writes docs/BENCHMARKS.md
	$(PY) -m tools.bench

clean: down ## Remove every generated file (keeps the lock files)
	rm -rf cdktf.out .venv $(CACHE) .state .pytest_cache
