"""The plan driver against the deployed local stack: a config change shows in the saved plan's summary, and a
planned replacement of the archive bucket in the same plan is refused by address."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tools import manifest, plans, stackctl
from tools.manifest import StackError


def test_a_plan_summarizes_every_change_and_refuses_to_replace_the_archive_bucket(deployed, changed_synth):
    def change(config):
        bucket = replace(config.log_archive.bucket, name="serverless-app-local-archive")
        return replace(config.with_function(memory_size_mb=384), log_archive=replace(config.log_archive, bucket=bucket))

    out = changed_synth("local", change)
    with pytest.raises(StackError, match=r"would destroy or replace ") as refused:
        stackctl.saved_plan("local", capture=True)
    # Its name is part of the access-log bucket's too: both are named, and how to let it through on purpose.
    assert re.search(
        r"replace aws_s3_bucket\.log_archive_access_logs_bucket_\w+, aws_s3_bucket\.log_archive_bucket_\w+;",
        str(refused.value),
    )
    assert "ALLOW_DESTROY=aws_s3_bucket.log_archive_access_logs_bucket_" in str(refused.value)
    # What a reviewer reads: the plan's JSON and a summary that lists the change, attribute by attribute, beside the
    # refusal. The refused plan itself is not kept: `make apply-plan` has nothing to apply.
    files = plans.files_for(manifest.find("local"), out)
    assert files.json.exists() and not files.binary.exists() and not files.pending.exists()
    text = files.summary.read_text()
    assert text.startswith("### `serverless-app-local`: ") and "**Refused**" in text
    assert "| change | `aws_lambda_function." in text
    assert "| `memory_size` | `256` | `384` |" in text
    with pytest.raises(StackError, match="is missing: run `make plan ENV=local` first"):
        stackctl.apply_saved("local", capture=True)
