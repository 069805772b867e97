# Every target sets up what it needs first; `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ENV ?= local
CACHE := $(CURDIR)/.cache
# When this make began: `make up` reports its prerequisites (the setup) as its first step.
MAKE_STARTED := $(shell date +%s.%N)
PIPENV_VERSION := 2026.10.3
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
# Every plan or apply starts the AWS provider 3-4 times, and each start builds the schemas of ~1,500 resource
# types; at Go's default GOGC=100 a third of that CPU is garbage collection. 400 cuts a plan's CPU by ~30%
# (docs/BENCHMARKS.md) for ~180 MiB more peak memory per provider process. Set GOGC to override.
export GOGC ?= 400
export PATH := $(CURDIR)/node_modules/.bin:$(CACHE)/pipenv/bin:$(PATH)
# Bytecode is written (a machine may set PYTHONDONTWRITEBYTECODE): without it every process compiles every module it
# imports again, e.g. an eager import of the provider bindings takes 30 s of CPU from source and 11 s from bytecode,
# and the test run starts hundreds of Python processes (docs/BENCHMARKS.md).
unexport PYTHONDONTWRITEBYTECODE

PIPENV := $(CACHE)/pipenv/bin/pipenv
PY := .venv/bin/python
STACKCTL := $(PY) -m tools.stackctl
# -O drops the provider bindings' per-call typeguard checks (tests keep them); bytecode is written so the
# optimized .pyc of the provider modules are compiled once (see synth/fast_import.py).
SYNTH := $(PY) -O main.py

.PHONY: help setup setup-app lock env synth validate plan deploy destroy bootstrap outputs drift up down serve test \
        test-unit test-emulator lint format docs openapi bench apply-plan release release-applied client clients client-rotate \
        client-revoke token logs archive query migrate-check emulator-start emulator-stop clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# Setup installs with uv (hashed, pinned in tools/uv-requirements.txt): the locked set in seconds where pipenv sync
# takes a minute and a half. Pipfile and Pipfile.lock stay the one source of truth (`make lock` updates the lock
# with pipenv); tools/locked_requirements.py turns the lock into a hashed requirements file, refusing one that no
# longer pins what the Pipfile asks for, and uv refuses any package whose hash is not in it.
UV := $(CACHE)/uv/bin/uv
export UV_CACHE_DIR := $(CACHE)/uv-cache
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

$(UV): tools/uv-requirements.txt
	python3 -m venv $(CACHE)/uv
	$(CACHE)/uv/bin/python -m pip install --quiet --require-hashes -r tools/uv-requirements.txt
	touch $@

$(PIPENV):
	python3 -m venv $(CACHE)/pipenv
	$(CACHE)/pipenv/bin/python -m pip install --quiet pipenv==$(PIPENV_VERSION)

# A fresh venv each time the lock changes (python3 -m venv, so pip is there for the Lambda bundle's install), so
# nothing the lock dropped stays behind.
.venv/.installed: Pipfile Pipfile.lock tools/locked_requirements.py | $(UV)
	mkdir -p $(CACHE)
	python3 tools/locked_requirements.py --dev > $(CACHE)/requirements.txt
	rm -rf .venv
	python3 -m venv .venv
	VIRTUAL_ENV=$(CURDIR)/.venv $(UV) pip install --quiet --require-hashes -r $(CACHE)/requirements.txt
	touch $@

$(TF_CLI_CONFIG_FILE): tools/terraform_cli_config.sh
	mkdir -p $(CACHE)
	tools/terraform_cli_config.sh $@ $(CACHE) $(AWS_PROVIDER_VERSION)

# The tool venvs are fully pinned (a freeze of a working install) and only the test targets need them.
$(CACHE)/checkov/.installed: tools/checkov-requirements.txt | $(UV)
	rm -rf $(CACHE)/checkov
	$(UV) venv --quiet --python python3 $(CACHE)/checkov
	VIRTUAL_ENV=$(CACHE)/checkov $(UV) pip install --quiet -r tools/checkov-requirements.txt
	touch $@

$(CACHE)/ci-tools/.installed: tools/ci-requirements.txt | $(UV)
	rm -rf $(CACHE)/ci-tools
	$(UV) venv --quiet --python python3 $(CACHE)/ci-tools
	VIRTUAL_ENV=$(CACHE)/ci-tools $(UV) pip install --quiet -r tools/ci-requirements.txt
	touch $@

# pip compiles bytecode at install and uv does not: the tests' eager synth (tests/test_fast_import.py) imports all
# ~2,100 provider modules, 30 s of CPU from source and 11 s from bytecode. Only the test targets need it, so it runs
# beside their other installs; every other module's bytecode is written by the first process that imports it.
.venv/.compiled: .venv/.installed
	$(PY) -m compileall -q -j 0 .venv/lib/python*/site-packages/cdktf_cdktf_provider_aws > /dev/null
	touch $@

# The cdktf CLI and the IAM engine of tests/simulation, from package-lock.json (no install scripts run).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# What the app and the deploy targets need, and what the tests need on top. Independent installs run side by side;
# when everything is current this is one quick `make -q`.
SETUP_APP := .venv/.installed $(TF_CLI_CONFIG_FILE)
SETUP_ALL := $(SETUP_APP) .venv/.compiled $(CACHE)/checkov/.installed $(CACHE)/ci-tools/.installed node_modules/.installed

setup-app: ## Install what synth, `make up` and the deploy targets need (the venv, the Terraform CLI config)
	@$(MAKE) -q $(SETUP_APP) 2>/dev/null || $(MAKE) -j 4 --output-sync=target $(SETUP_APP)

setup: ## Install everything from the lock files, side by side (idempotent): setup-app, the tool venvs, npm tools
	@$(MAKE) -q $(SETUP_ALL) 2>/dev/null || $(MAKE) -j 4 --output-sync=target $(SETUP_ALL)

lock: $(PIPENV) ## Update Pipfile.lock from the Pipfile (pipenv lock); the next setup installs it
	$(PIPENV) lock

env: ## Print the exports under which the cdktf CLI and plain terraform work here: eval "$$(make env)"
	@$(MAKE) setup >&2
	@echo 'export PATH="$(CURDIR)/node_modules/.bin:$$PATH" CHECKPOINT_DISABLE=1'
	@echo 'export TF_CLI_CONFIG_FILE="$(TF_CLI_CONFIG_FILE)" JSII_RUNTIME_PACKAGE_CACHE_ROOT="$(CACHE)/jsii"'
	@echo 'export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 GOGC=$(GOGC)'

synth: setup-app ## Synthesize every stack into cdktf.out/
	$(SYNTH)

validate: synth ## terraform validate of every stack, in one run (each stack a module of a scratch root)
	$(STACKCTL) validate

bootstrap: synth ## Create the remote-state bucket for ENV's account (BOOTSTRAP_ENV=$(ENV))
	BOOTSTRAP_ENV=$(ENV) $(SYNTH)
	BOOTSTRAP_ENV=$(ENV) $(STACKCTL) apply bootstrap

plan: synth ## Plan ENV's stack into cdktf.out/plans/<stack>.tfplan (+ .json, .md summary); refuses data loss
	$(STACKCTL) plan $(ENV)

apply-plan: setup-app ## Apply exactly the plan `make plan ENV=...` saved (what was reviewed), without synthesizing again
	$(STACKCTL) apply-plan $(ENV)

release: synth ## Apply ENV's stack, then shift each route group's live alias (or GROUP's) to its new version (CodeDeploy; ALL_AT_ONCE=1 in an emergency)
	$(PY) -m tools.release $(ENV) $(if $(GROUP),--group $(GROUP)) $(if $(ALL_AT_ONCE),--all-at-once)

release-applied: setup-app ## Shift ENV's live alias to the version the last apply published (CI, after apply-plan; no synth)
	$(PY) -m tools.release $(ENV) --no-apply $(if $(GROUP),--group $(GROUP))

client: setup-app ## Issue API client NAME its credentials on ENV (app client + API key), printed once; SCOPES=a,b
	$(PY) -m tools.clients issue $(ENV) --name '$(NAME)' $(if $(SCOPES),--scopes '$(SCOPES)')

clients: setup-app ## List ENV's API clients
	$(PY) -m tools.clients list $(ENV)

client-rotate: setup-app ## Add a new key for client NAME beside its current one; RETIRE=1 deletes all but the newest
	$(PY) -m tools.clients rotate $(ENV) --name '$(NAME)' $(if $(RETIRE),--retire)

token: setup-app ## Print an access token: SCOPES=events/write, NAME=<client> (emulator), AS_USER=1 (a user's, no API scope)
	@$(PY) -m tools.tokens $(ENV) $(if $(SCOPES),--scopes '$(SCOPES)') $(if $(NAME),--name '$(NAME)') $(if $(AS_USER),--user)

client-revoke: setup-app ## Delete every credential of client NAME on ENV
	$(PY) -m tools.clients revoke $(ENV) --name '$(NAME)'

deploy: synth ## terraform apply of ENV's stack
	$(STACKCTL) apply $(ENV)

destroy: synth ## terraform destroy of ENV's stack
	$(STACKCTL) destroy $(ENV)

outputs: setup-app ## Print ENV's stack outputs, whole, as JSON (`make up` shortens the long ones)
	@$(STACKCTL) outputs $(ENV)

drift: synth ## Report drift between ENV's state and what is deployed (exit 2 on drift)
	$(STACKCTL) drift $(ENV)

emulator-start: synth ## Start the local AWS emulator on EMULATOR_PORT (the port the local stack points at)
	$(PY) -m tools.emulator start

emulator-stop: ## Stop the local AWS emulator
	@if [ -x $(PY) ] && [ -f cdktf.out/manifest.json ]; then $(PY) -m tools.emulator stop; fi

up: setup-app ## Synth, emulator, bootstrap, deploy `local`, print its outputs, call the API; times each step
	$(PY) -m tools.devloop up --make-started $(MAKE_STARTED)

serve: setup-app ## Run the local API in the foreground (routes, keys, throttle, models of the stack; reloads on edit)
	$(PY) -m tools.local_api

logs: setup-app ## Read ENV's log groups: SINCE=15m, FILTER='"ERROR"', GROUP=<route group or part of a name>, FOLLOW=1
	$(PY) -m tools.logs $(ENV) --since $(or $(SINCE),15m) $(if $(FILTER),--filter '$(FILTER)') \
	    $(if $(GROUP),--group '$(GROUP)') $(if $(FOLLOW),--follow)

archive: setup-app ## Print ENV's archived log lines: SINCE=1h, SOURCE=lambda/<function>, GREP=<text>, LIST=1
	$(PY) -m tools.archive $(ENV) --since $(or $(SINCE),1h) $(if $(SOURCE),--source '$(SOURCE)') \
	    $(if $(GREP),--grep '$(GREP)') $(if $(LIST),--list)

# SQL reaches the command through the environment (make exports command-line variables), so its quotes survive.
query: setup-app ## Query ENV's archive: NAME=<saved query> or SQL='SELECT …', SINCE=1h, UNTIL=, ID=<request id>, CSV=1, LIST=1
	$(PY) -m tools.query $(ENV) $(if $(NAME),--name '$(NAME)') $(if $(SQL),--sql "$$SQL") --since '$(or $(SINCE),1h)' \
	    $(if $(UNTIL),--until '$(UNTIL)') $(if $(ID),--id '$(ID)') $(if $(CSV),--csv) $(if $(LIST),--list)

down: ## Destroy the local stack, stop the emulator and the local API, remove what `up` made
	@if [ -x $(PY) ] && [ -f cdktf.out/manifest.json ]; then $(PY) -m tools.devloop down || true; fi
	$(MAKE) emulator-stop
	rm -rf .state/*-local.tfstate* .state/*-local.applied-from cdktf.out/stacks/*/.terraform cdktf.out/stacks/*/.terraform.lock.hcl $(CACHE)/emulator \
	       $(CACHE)/local-api $(CACHE)/local-client.json

# Three workers on two cores: the emulator chain's worker spends much of its time waiting on the provider's
# propagation guards, and a third worker fills that time (measured on 2 cores: 2 workers 112 s, 3 ~100 s, 4 112 s).
TEST_WORKERS ?= 3

test: setup ## Every test: unit, synth, terraform, checkov and emulator
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

test-unit: setup ## The fast inner loop: no terraform, no emulator
	$(PY) -m pytest -m "not emulator and not terraform and not checkov and not slow" -n 2

test-emulator: setup ## Only the tests that apply to the emulator
	$(PY) -m pytest -m emulator

lint: setup-app ## ruff check and ruff format --check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup-app ## Format every Python file (ruff format) and apply ruff's safe fixes
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

docs: setup-app ## Regenerate the README's module reference from the docstrings in modules/
	$(PY) -m tools.reference

openapi: setup-app ## Write docs/openapi.json from the handler's routes and models (a test fails when it is stale)
	$(PY) -m stacks.contract

migrate-check: setup-app ## Synthesize the app with CDK Terrain (cdktn) in a side venv and compare; writes docs/MIGRATION.md
	$(PY) -m tools.migrate_check

bench: setup ## Measure synth, tests, apply, handler and log cost; writes docs/BENCHMARKS.md
	$(PY) -m tools.bench

clean: down ## Remove every generated file (keeps the lock files)
	rm -rf cdktf.out .venv $(CACHE) .state .pytest_cache
