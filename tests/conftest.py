"""Shared fixtures: one synth of every stack per test session (per worker)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from synth import fast_import  # noqa: E402 - must precede every provider import in the test modules

fast_import.install()
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ["CHECKPOINT_DISABLE"] = "1"
if (PROJECT_DIR / ".cache" / "terraform.rc").exists():  # written by `make setup`: offline provider installs
    os.environ["TF_CLI_CONFIG_FILE"] = str(PROJECT_DIR / ".cache" / "terraform.rc")
# Every variable the configuration reads is cleared, so a machine or CI job that sets any (GitHub sets
# GITHUB_REPOSITORY in every job; the pipeline's variables) cannot change what the tests synthesize. Tests that need
# one pass it explicitly. A test runs the suite with all of them set (tests/test_workflows.py).
from stacks.environments import DEPLOYMENT_VARIABLES, ENVIRONMENT_NAMES  # noqa: E402

for name in {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    *(v.format(ENV=e.upper()) for v in DEPLOYMENT_VARIABLES for e in ENVIRONMENT_NAMES),
}:
    os.environ.pop(name, None)
# The handler reads its configuration when imported, as on Lambda, and the stacks import it too (for its OpenAPI
# document): set it before any test module can, as the stack sets it (tests/test_function.py checks that side).
os.environ.update(
    {
        "POWERTOOLS_SERVICE_NAME": "serverless-app",
        "POWERTOOLS_METRICS_NAMESPACE": "serverless-app/test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "SERVICE_VERSION": "9.9.9",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
)

from stack_helpers import DEPLOYED, Synth, made_once, synthesize, synthesized  # noqa: E402


def pytest_collection_finish(session: pytest.Session) -> None:
    # Imports are done: give the test run its cyclic GC back (see synth/fast_import.py).
    fast_import.settle()


# The emulator chain (one xdist group, tests/emulator/conftest.py) is the run's longest serial path. The worker it goes
# to keeps its priority; every other worker lowers its own, once, at its first test (its Terraform, checkov and synth
# processes inherit it), so that their work fills the CPU the chain leaves idle rather than slowing the chain down.
CHAIN_GROUP = "emulator"
LOWER_PRIORITY_BY = 10
_decided: list[bool] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _decided:
        return
    _decided.append(True)
    group = item.get_closest_marker("xdist_group")
    if os.environ.get("PYTEST_XDIST_WORKER") and not (group and group.args == (CHAIN_GROUP,)):
        os.nice(LOWER_PRIORITY_BY)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Synth:
    """Every stack, dev and prod configured as a deployment would configure them (DEPLOYED): synthesized once per
    run, by the first worker that asks (the others wait for it and read what it wrote). Tests read it; the one that
    validates it adds a scratch root beside the stacks (``validate/``)."""
    folder = made_once(tmp_path_factory, worker_id, "synth", lambda folder: synthesize(folder / "cdktf.out", DEPLOYED))
    return synthesized(folder / "cdktf.out")


@pytest.fixture(scope="session")
def prod(synth: Synth) -> dict:
    return synth.stack("prod")


@pytest.fixture(scope="session")
def dev(synth: Synth) -> dict:
    return synth.stack("dev")


@pytest.fixture(scope="session")
def local(synth: Synth) -> dict:
    return synth.stack("local")


@pytest.fixture(scope="session")
def bootstrap(synth: Synth) -> dict:
    return synth.stack("bootstrap")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the one-line summaries tests record (checkov counts, policy, contention, drift)."""
    lines = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for key, value in report.user_properties
        if key == "summary"
    ]
    if lines:
        terminalreporter.section("gate summaries")
        for line in sorted(lines):
            terminalreporter.write_line(line)
