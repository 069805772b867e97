"""Terraform accepts every synthesized stack: init without a backend, then validate."""

import pytest

from tools import stackctl

pytestmark = pytest.mark.terraform


def test_every_stack_validates(synth, record_property):
    validated = stackctl.validate(synth.outdir)
    assert sorted(validated) == sorted(synth.stacks)
    record_property("summary", f"terraform validate: {len(validated)} stacks valid")
