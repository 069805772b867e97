"""Emulator tests: one emulator with the bootstrap applied (the remote-state bucket and its key) for the whole run,
shared by every xdist worker, and on it:

- the ``emulator`` group, one worker's serial chain: the ``local`` stack applied once (``deployed``) and shared by
  its tests; the ones that change it (lock contention, drift and a release) run last, and the last destroys it;
- the tests that need only the state bucket (``bootstrapped``): `cdktf diff` of the bootstrap, and plans of dev and
  prod (``environments``: synthesized once the bootstrap's state key exists, as on a real account, into a folder of
  their own, by whichever worker needs them first). They are not grouped: they queue behind the unit tests and run on
  whichever worker is free, beside the chain.

The first worker that needs the emulator starts it and applies the bootstrap under a file lock; the others read
where it is. Its creator stops it once no other worker uses it. While a module of this folder runs, the tools point
at it; other tests never see it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pytest
from stack_helpers import locked, made_once, synthesize, synthesize_changed

from tools import aws, clients, emulator, stackctl
from tools.processes import free_port

HERE = Path(__file__).resolve().parent

# The chain on the applied stack, in order: read-only checks first; the tests that change the deployed stack
# (lock contention, drift and a release) last, and its destroy at the very end.
CHAIN = (
    "test_emulator_foundation",
    "test_emulator_log_archive",
    "test_emulator_monitoring",
    "test_emulator_local_api",
    "test_emulator_log_query",
    "test_emulator_clients",
    "test_emulator_contract",
    "test_emulator_plans",
    "test_emulator_state_contention",
    "test_emulator_release",
    "test_emulator_destroy",
)
# Need only the bootstrap (the module's fixture); each test runs alone, on any worker.
ON_THE_STATE_BUCKET = {"test_emulator_cdktf_cli": "bootstrapped", "test_emulator_environments": "environments"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Also sets the order xdist hands tests out in (the chain's group goes first, as the largest): the heavy tests of
    # the rest (Terraform, checkov, subprocess synths), then the state-bucket tests (by then the bootstrap is long
    # applied), then the quick ones, so that the last tests a worker picks up are short and both finish together.
    ranks: dict[str, tuple[int, int]] = {}
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.parent != HERE:
            heavy = any(item.get_closest_marker(name) for name in ("terraform", "checkov", "slow"))
            ranks[item.nodeid] = (1, 0) if heavy else (3, 0)
            continue
        item.add_marker(pytest.mark.emulator)
        if path.stem in CHAIN:
            item.add_marker(pytest.mark.xdist_group("emulator"))
            ranks[item.nodeid] = (0, CHAIN.index(path.stem))
        elif path.stem in ON_THE_STATE_BUCKET:
            ranks[item.nodeid] = (2, 0)
        else:
            raise pytest.UsageError(f"{path.name}: add it to CHAIN or ON_THE_STATE_BUCKET in {__file__}")
    items.sort(key=lambda item: ranks[item.nodeid])


@dataclass(frozen=True)
class Bootstrapped:
    """The run's emulator with the bootstrap applied: the variables that point the tools at it, its outputs."""

    port: int
    environ: dict[str, str]
    bootstrap: dict[str, object]

    def client(self, service: str):
        return aws.emulator_client(service, emulator.url(self.port))


@dataclass(frozen=True)
class Deployed(Bootstrapped):
    """The applied local stack: its outputs too, and a client's credentials (issued as `make client` issues them)."""

    outputs: dict[str, object]
    credentials: dict[str, str]


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


def _start_and_bootstrap(work: Path) -> Bootstrapped:
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
    except BaseException:
        emulator.stop(port)
        raise
    return Bootstrapped(port, environ, outputs)


def _with_environments(base: Bootstrapped, work: Path) -> Bootstrapped:
    """As on a real account: dev and prod synthesized once the bootstrap's state key exists (into ``work``, so that
    the chain's stacks are not written again under its Terraform runs)."""
    arn = str(base.bootstrap["state_kms_key_arn"])
    environ = {**base.environ, "CDKTF_OUTDIR": str(work / "cdktf.out")}
    environ.update({f"TF_STATE_KMS_KEY_ARN_{name}": arn for name in ("DEV", "PROD")})
    with _pointed_at(environ):
        synthesize(work / "cdktf.out", environ)
    return replace(base, environ=environ)


# How long the worker that started the emulator waits, at its end, for the other workers' last emulator tests.
USERS_TIMEOUT_SECONDS = 900


@pytest.fixture(scope="session")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Bootstrapped]:
    """The run's one emulator with the bootstrap applied, started by whichever worker asks first."""
    if worker_id == "master":  # not distributed: this process is the only user
        base = _start_and_bootstrap(tmp_path_factory.mktemp("emulator"))
        yield base
        emulator.stop(base.port)
        return
    shared = tmp_path_factory.getbasetemp().parent  # one directory per run, common to its workers
    record, users = shared / "emulator.json", shared / "emulator-users"
    with locked(shared / "emulator.lock"):
        created = not record.exists()
        if created:
            (shared / "emulator").mkdir(exist_ok=True)
            base = _start_and_bootstrap(shared / "emulator")
            record.write_text(json.dumps(asdict(base)))
        else:
            base = Bootstrapped(**json.loads(record.read_text()))
        users.mkdir(exist_ok=True)
        (users / worker_id).touch()
    yield base
    (users / worker_id).unlink()
    if created:
        deadline = time.monotonic() + USERS_TIMEOUT_SECONDS
        while any(users.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.5)
        emulator.stop(base.port)


@pytest.fixture(scope="session")
def environments(bootstrapped: Bootstrapped, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Bootstrapped:
    """The bootstrapped emulator with dev and prod synthesized for it, once per run (the first worker that asks)."""

    def make(folder: Path) -> None:
        (folder / "environments.json").write_text(json.dumps(asdict(_with_environments(bootstrapped, folder))))

    folder = made_once(tmp_path_factory, worker_id, "environments", make)
    return Bootstrapped(**json.loads((folder / "environments.json").read_text()))


@pytest.fixture(scope="session")
def deployed(bootstrapped: Bootstrapped) -> Deployed:
    """The local stack applied to the run's emulator, once; its destroy is a test of its own, the chain's last
    (test_emulator_destroy.py)."""
    with _pointed_at(bootstrapped.environ):
        stackctl.apply("local", capture=True)
        outputs = stackctl.outputs("local")
        credentials = asdict(clients.issuer("local").issue("tests"))
    return Deployed(bootstrapped.port, bootstrapped.environ, bootstrapped.bootstrap, outputs, credentials)


@pytest.fixture(scope="module", autouse=True)
def _pointed_at_the_emulator(request: pytest.FixtureRequest) -> Iterator[None]:
    """While a module of this folder runs, the tools point at the run's emulator; then the worker's other tests get
    their environment back (xdist may run them on the same worker, after these)."""
    fixture = ON_THE_STATE_BUCKET.get(Path(request.module.__file__).stem, "deployed")
    with _pointed_at(request.getfixturevalue(fixture).environ):
        yield


@pytest.fixture
def changed_synth(tmp_path, monkeypatch):
    """Synthesize the app again, into another folder, with one environment's config changed by ``change``."""

    def synth(environment: str, change, extra_env: dict[str, str] | None = None):
        return synthesize_changed(monkeypatch, tmp_path / "changed", environment, change, extra_env)

    return synth
