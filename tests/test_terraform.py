"""Terraform accepts every synthesized stack: init without a backend, then validate, in one run."""

import json

import pytest

from tools import stackctl
from tools.manifest import StackError

pytestmark = pytest.mark.terraform


def test_every_stack_validates(synth, record_property):
    validated = stackctl.validate(synth.outdir)
    assert sorted(validated) == sorted(synth.stacks)
    record_property("summary", f"terraform validate: {len(validated)} stacks valid")


def _stack(out, name: str, resource: dict) -> None:
    directory = out / "stacks" / name
    directory.mkdir(parents=True)
    (directory / "cdk.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"r": resource}}}))


def test_an_invalid_stack_is_named_with_terraforms_error_and_the_valid_one_is_not(tmp_path):
    # terraform_data is Terraform's own resource: no provider to load, so this run takes a fraction of a second.
    _stack(tmp_path, "app-local", {"input": "fine"})
    _stack(tmp_path, "app-dev", {"inputs": "a typo"})
    stacks = {name: {"workingDirectory": f"stacks/{name}"} for name in ("app-local", "app-dev")}
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": stacks}))
    with pytest.raises(StackError) as raised:
        stackctl.validate(tmp_path)
    message = str(raised.value)
    assert (
        message.startswith("terraform validate: app-dev: Extraneous JSON object property: ")
        and "app-local" not in message
    )
    assert '"inputs"' in message and "stacks/app-dev/cdk.tf.json" in message
