"""Helpers shared by the synth and emulator tests: parsed stacks, resource lookups, one in-process synth."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


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
    manifest = json.loads((outdir / "manifest.json").read_text())
    return Synth(
        outdir,
        {
            name: json.loads((outdir / stack["synthesizedStackPath"]).read_text())
            for name, stack in manifest["stacks"].items()
        },
    )
