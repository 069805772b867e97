"""The synthesized app as operator tooling sees it: cdktf's ``manifest.json`` and each stack's ``cdk.tf.json``.

Tooling never imports the app's Python code; it reads what synth wrote. An environment ``ENV`` is the stack
named ``*-ENV``; ``bootstrap`` is the remote-state stack.
"""

from __future__ import annotations

import configparser
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
KINDS = ("local", "dev", "prod", "bootstrap")
# What an offline synth of every stack needs (`make migrate-check`, `make bench`): placeholder accounts and state
# keys for dev and prod, and prod's required alarm subscriber. Nothing reaches these accounts.
PLACEHOLDER_DEPLOYMENT = {
    "AWS_ACCOUNT_ID_DEV": "111111111111",
    "TF_STATE_KMS_KEY_ARN_DEV": "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-4111-8111-111111111111",
    "AWS_ACCOUNT_ID_PROD": "222222222222",
    "TF_STATE_KMS_KEY_ARN_PROD": "arn:aws:kms:us-east-1:222222222222:key/22222222-2222-4222-8222-222222222222",
    "ALARM_EMAILS_PROD": "oncall@example.com",
}


class StackError(RuntimeError):
    """A stack is missing or a Terraform command failed; the message says which and why."""


@dataclass(frozen=True)
class Stack:
    """One synthesized stack: its name and working directory."""

    name: str
    directory: Path

    @property
    def kind(self) -> str:
        return self.name.rsplit("-", 1)[1]

    @cached_property
    def tf(self) -> dict:
        """The stack's ``cdk.tf.json``, parsed."""
        return json.loads((self.directory / "cdk.tf.json").read_text())

    @cached_property
    def emulator_endpoint(self) -> str | None:
        """The emulator URL the stack's provider sends every service to (the ``endpoint_url`` of the shared-config
        profile synthesized beside it), or None for a stack that deploys to an account."""
        try:
            provider = (self.tf.get("provider", {}).get("aws") or [{}])[0]
        except FileNotFoundError:  # a scratch root that holds stacks as modules (`make validate`)
            return None
        files = provider.get("shared_config_files")
        if not files or "profile" not in provider:
            return None
        parser = configparser.ConfigParser()
        parser.read(self.directory / files[0])
        return parser.get(f"profile {provider['profile']}", "endpoint_url", fallback=None)

    @property
    def emulated(self) -> bool:
        """Whether the stack deploys to the local emulator rather than an account."""
        return self.emulator_endpoint is not None

    def resources(self, type_: str) -> dict[str, dict]:
        return self.tf.get("resource", {}).get(type_, {})

    def route_groups(self) -> dict[str, dict]:
        """Each route group of the stack by name (its synthesized ``route_groups`` output: function, handler, alias,
        log group, release, paths), the one that answers undeclared paths first."""
        value = self.tf.get("output", {}).get("route_groups", {}).get("value")
        if not isinstance(value, str):
            raise StackError(f"{self.name}: no route_groups output; run `make synth`")
        groups = json.loads(value)
        return dict(sorted(groups.items(), key=lambda item: (not item[1]["primary"], item[0])))

    def route_group(self, name: str | None) -> tuple[str, dict]:
        """One route group by name (None: the first); an unknown name names the ones there are."""
        groups = self.route_groups()
        name = name or next(iter(groups))
        if name not in groups:
            raise StackError(f"{self.name}: no route group {name!r}; allowed: {', '.join(groups)}")
        return name, groups[name]

    def one(self, type_: str) -> dict:
        found = list(self.resources(type_).values())
        if len(found) != 1:
            raise StackError(f"{self.name}: expected one {type_}, found {len(found)}")
        return found[0]


def outdir() -> Path:
    return Path(os.environ.get("CDKTF_OUTDIR", PROJECT_DIR / "cdktf.out"))


def stack_names(out: Path | None = None) -> list[str]:
    manifest = (out or outdir()) / "manifest.json"
    if not manifest.exists():
        raise StackError(f"{manifest} is missing: run `make synth` first")
    return list(json.loads(manifest.read_text())["stacks"])


def find(kind: str, out: Path | None = None) -> Stack:
    """The synthesized stack for an environment name or ``bootstrap``."""
    out = out or outdir()
    names = stack_names(out)
    matches = [name for name in names if name.endswith(f"-{kind}")]
    if not matches and kind in ("dev", "prod"):
        raise StackError(
            f"no {kind} stack was synthesized: set AWS_ACCOUNT_ID_{kind.upper()} and TF_STATE_KMS_KEY_ARN_"
            f"{kind.upper()} (the bootstrap output state_kms_key_arn) and synthesize again"
        )
    if len(matches) != 1:
        raise StackError(f"kind={kind!r} is invalid: allowed one of {', '.join(KINDS)} (stacks: {', '.join(names)})")
    manifest = json.loads((out / "manifest.json").read_text())
    return Stack(matches[0], out / manifest["stacks"][matches[0]]["workingDirectory"])


def emulator_endpoint(out: Path | None = None) -> str:
    """The emulator URL the synthesized ``local`` stack points at (set by ``EMULATOR_PORT`` at synth)."""
    endpoint = find("local", out).emulator_endpoint
    if endpoint is None:
        raise StackError("the local stack names no emulator: run `make synth`")
    return endpoint
