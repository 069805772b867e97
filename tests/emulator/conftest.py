"""Emulator tests in two xdist groups, each with its own fresh emulator and bootstrap (the remote-state bucket):

- ``emulator``: one applied ``local`` stack shared by every test of the group (``deployed``); the tests that
  change it (lock contention, drift and a release) run last, and the last one destroys it;
- ``emulator-environments``: a re-plan of the bootstrap and plans of dev and prod, which need only the state
  bucket (``state_bucket``). They run on the other worker, beside the first group's long serial chain
  (``--dist loadgroup`` hands out the largest groups first: both start at once, one per worker).

While a module of this folder runs, the tools point at its group's emulator; other tests never see it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from stack_helpers import synthesize

from tools import aws, emulator, stackctl
from tools.processes import free_port

HERE = Path(__file__).resolve().parent


# Read-only checks first; the tests that change the deployed stack (lock contention, drift and a release) last.
ORDER = (
    "test_emulator_foundation",
    "test_emulator_log_archive",
    "test_emulator_monitoring",
    "test_emulator_local_api",
    "test_emulator_contract",
    "test_emulator_cdktf_cli",
    "test_emulator_plans",
    "test_emulator_state_contention",
    "test_emulator_release",
    "test_emulator_destroy",
    "test_emulator_environments",
)
GROUPS = {"test_emulator_environments": "emulator-environments"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.parent == HERE:
            item.add_marker(pytest.mark.emulator)
            item.add_marker(pytest.mark.xdist_group(GROUPS.get(path.stem, "emulator")))

    def rank(item: pytest.Item) -> int:
        stem = Path(str(item.fspath)).stem
        return ORDER.index(stem) if stem in ORDER else -1

    items.sort(key=rank)


@dataclass(frozen=True)
class Bootstrapped:
    """A fresh emulator with the bootstrap applied: the variables that point the tools at it, its outputs."""

    port: int
    environ: dict[str, str]
    bootstrap: dict[str, object]

    def client(self, service: str):
        return aws.emulator_client(service, emulator.url(self.port))


@dataclass(frozen=True)
class Deployed(Bootstrapped):
    """The applied local stack: its outputs too."""

    outputs: dict[str, object]


@contextmanager
def _pointed_at(environ: dict[str, str]) -> Iterator[None]:
    """Set ``environ`` in this process, then put back exactly what was there."""
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _bootstrapped(work: Path) -> Iterator[Bootstrapped]:
    """A fresh emulator, the app synthesized for it into ``work``, and the bootstrap stack applied to it."""
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
    emulator.start(port)
    try:
        with _pointed_at(environ):
            synthesize(work / "cdktf.out", environ)
            stackctl.apply("bootstrap", capture=True)
            outputs = stackctl.outputs("bootstrap")
        yield Bootstrapped(port, environ, outputs)
    finally:
        emulator.stop(port)


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    with _bootstrapped(tmp_path_factory.mktemp("emulator")) as base:
        with _pointed_at(base.environ):
            stackctl.apply("local", capture=True)
            outputs = stackctl.outputs("local")
        # Destroying it is a test of its own, the group's last (test_emulator_destroy.py).
        yield Deployed(base.port, base.environ, base.bootstrap, outputs)


@pytest.fixture(scope="module")
def state_bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bootstrapped]:
    """The bootstrap alone, on an emulator of its own: the remote-state bucket dev's and prod's plans use."""
    with _bootstrapped(tmp_path_factory.mktemp("environments")) as base:
        yield base


@pytest.fixture(scope="module", autouse=True)
def _pointed_at_the_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    """While a module of this folder runs, the tools point at its group's emulator; then the worker's other tests
    get their environment back (xdist may run them on the same worker, after these)."""
    fixture = "state_bucket" if Path(request.module.__file__).stem in GROUPS else "deployed"
    with _pointed_at(request.getfixturevalue(fixture).environ):
        yield


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
