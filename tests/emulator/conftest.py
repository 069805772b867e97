"""One fresh emulator and one applied ``local`` stack for every emulator test (they run in one xdist group)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from stack_helpers import synthesize

from tools import aws, emulator, stackctl
from tools.processes import free_port

HERE = Path(__file__).resolve().parent


# Read-only checks first; the tests that change the deployed stack (lock contention, drift) last.
ORDER = (
    "test_emulator_foundation",
    "test_emulator_log_archive",
    "test_emulator_monitoring",
    "test_emulator_local_api",
    "test_emulator_contract",
    "test_emulator_cdktf_cli",
    "test_emulator_plans",
    "test_emulator_release",
    "test_emulator_state_contention",
    "test_emulator_drift",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().parent == HERE:
            item.add_marker(pytest.mark.emulator)
            item.add_marker(pytest.mark.xdist_group("emulator"))

    def rank(item: pytest.Item) -> int:
        stem = Path(str(item.fspath)).stem
        return ORDER.index(stem) if stem in ORDER else -1

    items.sort(key=rank)


@dataclass(frozen=True)
class Deployed:
    """The applied local stack: its outputs, the bootstrap's outputs, and emulator clients."""

    port: int
    outputs: dict[str, object]
    bootstrap: dict[str, object]

    def client(self, service: str):
        return aws.emulator_client(service)


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    work = tmp_path_factory.mktemp("emulator")
    port = free_port()
    environ = {
        "EMULATOR_PORT": str(port),
        "CDKTF_OUTDIR": str(work / "cdktf.out"),
        "BOOTSTRAP_STATE_DIR": str(work / "state"),
        # dev and prod are planned against the emulator too: its account, and the subscriber prod requires.
        "AWS_ACCOUNT_ID_DEV": "123456789012",
        "AWS_ACCOUNT_ID_PROD": "123456789012",
        "ALARM_EMAILS_PROD": "alarms@example.com",
        "LOCAL_API_PORT": str(free_port()),
    }
    saved = dict(os.environ)
    os.environ.update(environ)
    emulator.start(port)
    try:
        synthesize(work / "cdktf.out", environ)
        stackctl.apply("bootstrap", capture=True)
        stackctl.apply("local", capture=True)
        yield Deployed(port, stackctl.outputs("local"), stackctl.outputs("bootstrap"))
        # Part of the contract: the local stack destroys cleanly (a failure here is reported as an error).
        stackctl.destroy("local", capture=True)
        assert not aws.emulator_client("lambda").list_functions()["Functions"]
    finally:
        emulator.stop(port)
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def changed_synth(tmp_path, monkeypatch):
    """Synthesize the app again, into another folder, with one environment's config changed by ``change``."""
    from stacks import environments

    def synth(environment: str, change, extra_env: dict[str, str] | None = None):
        original = environments._environment

        def patched(name, environ, app):
            config = original(name, environ, app)
            return change(config) if name == environment else config

        monkeypatch.setattr(environments, "_environment", patched)
        out = tmp_path / "changed"
        synthesize(out, {**(extra_env or {}), "CDKTF_OUTDIR": str(out)})
        monkeypatch.setenv("CDKTF_OUTDIR", str(out))
        return out

    return synth
