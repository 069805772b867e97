"""Shared fixtures: one synth of every stack per test session, and one emulator with one applied stack."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "TF_STATE_BUCKET", "TF_STATE_REGION", "TF_STATE_KEY_PREFIX",
             "BOOTSTRAP_ENV", "AWS_ACCOUNT_ID_DEV", "AWS_ACCOUNT_ID_PROD"):
    os.environ.pop(name, None)


@dataclass(frozen=True)
class Synth:
    """Every stack's ``cdk.tf.json``, parsed, plus the output directory."""

    outdir: Path
    stacks: dict[str, dict]

    def stack(self, environment: str) -> dict:
        (name,) = [n for n in self.stacks if n.endswith(f"-{environment}")]
        return self.stacks[name]


def resources(tf: dict, type_: str) -> dict[str, dict]:
    return tf.get("resource", {}).get(type_, {})


def one(tf: dict, type_: str) -> dict:
    found = list(resources(tf, type_).values())
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]


def ref(type_: str, name: str, attribute: str = "id") -> str:
    return f"${{{type_}.{name}.{attribute}}}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def synthesize(outdir: Path, environ: dict[str, str] | None = None) -> Synth:
    """Synthesize the whole app in this process (the jsii runtime is loaded once per worker)."""
    saved = dict(os.environ)
    os.environ.update(environ or {})
    try:
        import main

        main.build_app(str(outdir)).synth()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Synth(outdir, {name: json.loads((outdir / stack["synthesizedStackPath"]).read_text())
                          for name, stack in manifest["stacks"].items()})


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("synth") / "cdktf.out")


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


def policy_of(resource: dict, attribute: str = "policy") -> dict:
    return json.loads(resource[attribute])


def statements(resource: dict, attribute: str = "policy") -> dict[str, dict]:
    return {s.get("Sid", str(i)): s for i, s in enumerate(policy_of(resource, attribute)["Statement"])}


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
