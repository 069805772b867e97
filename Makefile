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

PIPENV := $(CACHE)/pipenv/bin/pipenv
PY := .venv/bin/python
STACKCTL := $(PY) -m tools.stackctl
# -O drops the provider bindings' per-call typeguard checks (tests keep them); bytecode is written so the
# optimized .pyc of the provider modules are compiled once (see synth/fast_import.py).
SYNTH := PYTHONDONTWRITEBYTECODE= $(PY) -O main.py

.PHONY: help setup env synth validate plan deploy destroy bootstrap drift up down serve test test-unit \
        test-emulator lint format docs openapi bench apply-plan release release-applied client clients client-rotate \
        client-revoke token logs archive query emulator-start emulator-stop clean

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

$(CACHE)/ci-tools/.installed: tools/ci-requirements.txt
	python3 -m venv $(CACHE)/ci-tools
	$(CACHE)/ci-tools/bin/python -m pip install --quiet -r tools/ci-requirements.txt
	touch $@

# The cdktf CLI and the IAM engine of tests/simulation, from package-lock.json (no install scripts run).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

setup: .venv/.synced $(TF_CLI_CONFIG_FILE) $(CACHE)/checkov/.installed $(CACHE)/ci-tools/.installed node_modules/.installed ## Install everything from the lock files (idempotent)

env: ## Print the exports under which the cdktf CLI and plain terraform work here: eval "$$(make env)"
	@$(MAKE) setup >&2
	@echo 'export PATH="$(CURDIR)/node_modules/.bin:$(CACHE)/pipenv/bin:$$PATH"'
	@echo 'export PIPENV_VENV_IN_PROJECT=1 PIPENV_VERBOSITY=-1 PIPENV_NOSPIN=1 CHECKPOINT_DISABLE=1'
	@echo 'export TF_CLI_CONFIG_FILE="$(TF_CLI_CONFIG_FILE)" JSII_RUNTIME_PACKAGE_CACHE_ROOT="$(CACHE)/jsii"'
	@echo 'export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 GOGC=$(GOGC)'

synth: setup ## Synthesize every stack into cdktf.out/
	$(SYNTH)

validate: synth ## terraform init -backend=false + validate on every stack
	$(STACKCTL) validate

bootstrap: synth ## Create the remote-state bucket for ENV's account (BOOTSTRAP_ENV=$(ENV))
	BOOTSTRAP_ENV=$(ENV) $(SYNTH)
	BOOTSTRAP_ENV=$(ENV) $(STACKCTL) apply bootstrap

plan: synth ## Plan ENV's stack into cdktf.out/plans/<stack>.tfplan (+ .json, .md summary); refuses data loss
	$(STACKCTL) plan $(ENV)

apply-plan: setup ## Apply exactly the plan `make plan ENV=...` saved (what was reviewed), without synthesizing again
	$(STACKCTL) apply-plan $(ENV)

release: synth ## Apply ENV's stack, then shift its live alias to the new version (CodeDeploy; ALL_AT_ONCE=1 in an emergency)
	$(PY) -m tools.release $(ENV) $(if $(ALL_AT_ONCE),--all-at-once)

release-applied: setup ## Shift ENV's live alias to the version the last apply published (CI, after apply-plan; no synth)
	$(PY) -m tools.release $(ENV) --no-apply

client: setup ## Issue API client NAME its credentials on ENV (app client + API key), printed once; SCOPES=a,b
	$(PY) -m tools.clients issue $(ENV) --name '$(NAME)' $(if $(SCOPES),--scopes '$(SCOPES)')

clients: setup ## List ENV's API clients
	$(PY) -m tools.clients list $(ENV)

client-rotate: setup ## Add a new key for client NAME beside its current one; RETIRE=1 deletes all but the newest
	$(PY) -m tools.clients rotate $(ENV) --name '$(NAME)' $(if $(RETIRE),--retire)

token: setup ## Print an access token: SCOPES=events/write, NAME=<client> (emulator), AS_USER=1 (a user's, no API scope)
	@$(PY) -m tools.tokens $(ENV) $(if $(SCOPES),--scopes '$(SCOPES)') $(if $(NAME),--name '$(NAME)') $(if $(AS_USER),--user)

client-revoke: setup ## Delete every credential of client NAME on ENV
	$(PY) -m tools.clients revoke $(ENV) --name '$(NAME)'

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

up: setup ## Synth, emulator, bootstrap, deploy `local`, print its outputs, call the API; times each step
	$(PY) -m tools.devloop up --make-started $(MAKE_STARTED)

serve: setup ## Run the local API in the foreground (routes, keys, throttle, models of the stack; reloads on edit)
	$(PY) -m tools.local_api

logs: setup ## Read ENV's log groups: SINCE=15m, FILTER='"ERROR"', GROUP=<part of a name>, FOLLOW=1
	$(PY) -m tools.logs $(ENV) --since $(or $(SINCE),15m) $(if $(FILTER),--filter '$(FILTER)') \
	    $(if $(GROUP),--group '$(GROUP)') $(if $(FOLLOW),--follow)

archive: setup ## Print ENV's archived log lines: SINCE=1h, SOURCE=lambda/<function>, GREP=<text>, LIST=1
	$(PY) -m tools.archive $(ENV) --since $(or $(SINCE),1h) $(if $(SOURCE),--source '$(SOURCE)') \
	    $(if $(GREP),--grep '$(GREP)') $(if $(LIST),--list)

# SQL reaches the command through the environment (make exports command-line variables), so its quotes survive.
query: setup ## Query ENV's archive: NAME=<saved query> or SQL='SELECT …', SINCE=1h, UNTIL=, ID=<request id>, CSV=1, LIST=1
	$(PY) -m tools.query $(ENV) $(if $(NAME),--name '$(NAME)') $(if $(SQL),--sql "$$SQL") --since '$(or $(SINCE),1h)' \
	    $(if $(UNTIL),--until '$(UNTIL)') $(if $(ID),--id '$(ID)') $(if $(CSV),--csv) $(if $(LIST),--list)

down: ## Destroy the local stack, stop the emulator and the local API, remove what `up` made
	@if [ -x $(PY) ] && [ -f cdktf.out/manifest.json ]; then $(PY) -m tools.devloop down || true; fi
	$(MAKE) emulator-stop
	rm -rf .state/*-local.tfstate* .state/*-local.applied-from cdktf.out/stacks/*/.terraform cdktf.out/stacks/*/.terraform.lock.hcl $(CACHE)/emulator \
	       $(CACHE)/local-api $(CACHE)/local-client.json

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

openapi: setup ## Write docs/openapi.json from the handler's routes and models (a test fails when it is stale)
	$(PY) -m stacks.contract

bench: setup ## Measure synth, tests, apply, handler and log cost; writes docs/BENCHMARKS.md
	$(PY) -m tools.bench

clean: down ## Remove every generated file (keeps the lock files)
	rm -rf cdktf.out .venv $(CACHE) .state .pytest_cache
