"""Helpers shared by the synth and emulator tests: parsed stacks, resource lookups, one in-process synth."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The settings under which dev and prod are synthesized (their accounts and state keys; without them neither is).
DEV_ACCOUNT, PROD_ACCOUNT = "111111111111", "222222222222"
DEPLOYED = {
    "AWS_ACCOUNT_ID_DEV": DEV_ACCOUNT,
    "TF_STATE_KMS_KEY_ARN_DEV": f"arn:aws:kms:us-east-1:{DEV_ACCOUNT}:key/11111111-1111-4111-8111-111111111111",
    "AWS_ACCOUNT_ID_PROD": PROD_ACCOUNT,
    "TF_STATE_KMS_KEY_ARN_PROD": f"arn:aws:kms:us-east-1:{PROD_ACCOUNT}:key/22222222-2222-4222-8222-222222222222",
    "ALARM_EMAILS_PROD": "oncall@example.com",
}


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


def of_construct(tf: dict, type_: str, construct: str = "function") -> dict[str, dict]:
    """The resources of ``type_`` made by one construct (its id starts their logical names: ``function_...``)."""
    return {k: r for k, r in resources(tf, type_).items() if k.startswith(f"{construct}_")}


def one_of(tf: dict, type_: str, construct: str = "function") -> dict:
    found = list(of_construct(tf, type_, construct).values())
    assert len(found) == 1, f"expected one {type_} of {construct}, found {len(found)}"
    return found[0]


def ref(type_: str, name: str, attribute: str = "id") -> str:
    return f"${{{type_}.{name}.{attribute}}}"


def policy_of(resource: dict, attribute: str = "policy") -> dict:
    return json.loads(resource[attribute])


def statements(resource: dict, attribute: str = "policy") -> dict[str, dict]:
    return {s.get("Sid", str(i)): s for i, s in enumerate(policy_of(resource, attribute)["Statement"])}


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
    return synthesized(outdir)


def synthesized(outdir: Path) -> Synth:
    """What a synth wrote into ``outdir``, parsed."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Synth(
        outdir,
        {
            name: json.loads((outdir / stack["synthesizedStackPath"]).read_text())
            for name, stack in manifest["stacks"].items()
        },
    )


def made_once(tmp_path_factory, worker_id: str, name: str, make: Callable[[Path], None]) -> Path:
    """The folder ``name`` of this test run, filled by ``make`` once: by the first xdist worker that asks, while the
    others wait for it (or by the only process of a run without workers)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # one directory per run, common to its workers
    folder, done = shared / name, shared / f"{name}.done"
    with locked(shared / f"{name}.lock"):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            make(folder)
            done.touch()
    return folder


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across the run's processes (the xdist workers)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def synthesize_changed(
    monkeypatch, out: Path, environment: str, change, extra_env: dict[str, str] | None = None
) -> Path:
    """Synthesize the app into ``out`` with one environment's config changed by ``change``, and point the tools at
    it (``CDKTF_OUTDIR``) for as long as ``monkeypatch`` lasts."""
    from stacks import environments

    original = environments.build

    def patched(name, environ=None, app=environments.APP_NAME):
        config = original(name, environ, app)
        return change(config) if name == environment else config

    monkeypatch.setattr(environments, "build", patched)
    synthesize(out, {**(extra_env or {}), "CDKTF_OUTDIR": str(out)})
    monkeypatch.setenv("CDKTF_OUTDIR", str(out))
    return out


def testing_synth(stack) -> str:
    """cdktf's ``Testing.synth`` of one stack (the JSON string the ``Testing`` matchers take)."""
    from cdktf import Testing

    return Testing.synth(stack)


def assert_has_resource(synthesized: str, resource_type: str, properties: dict) -> None:
    """``Testing.to_have_resource_with_properties``, printing the candidates when no resource matches."""
    from cdktf import Testing

    if Testing.to_have_resource_with_properties(synthesized, resource_type, properties):
        return
    found = json.loads(synthesized).get("resource", {}).get(resource_type, {})
    raise AssertionError(
        f"no {resource_type} has {json.dumps(properties)}; the {len(found)} candidates:\n"
        + json.dumps(found, indent=1)[:6000]
    )


def assert_has_data_source(synthesized: str, data_type: str, properties: dict) -> None:
    from cdktf import Testing

    if Testing.to_have_data_source_with_properties(synthesized, data_type, properties):
        return
    found = json.loads(synthesized).get("data", {}).get(data_type, {})
    raise AssertionError(f"no data.{data_type} has {properties}; candidates: {json.dumps(found)[:4000]}")


def bootstrap_for(environ: dict[str, str]) -> dict:
    """The bootstrap stack for ``environ`` (e.g. BOOTSTRAP_ENV=prod), synthesized alone."""
    from cdktf import Testing

    from stacks import environments
    from stacks.bootstrap import BootstrapStack
    from stacks.bootstrap_config import bootstrap_config

    configs = environments.load(environ)
    config = bootstrap_config(configs, environ)
    stack = BootstrapStack(Testing.app(), "serverless-app-bootstrap", config=config)
    return json.loads(Testing.synth(stack))


def service_for(environment: str, environ: dict[str, str] | None = None) -> dict:
    """One environment's service stack for ``environ``, synthesized alone."""
    from cdktf import Testing

    from stacks import environments
    from stacks.service import ServiceStack

    config = environments.load(DEPLOYED if environ is None else environ)[environment]
    return json.loads(Testing.synth(ServiceStack(Testing.app(), config.stack_name, config=config)))
