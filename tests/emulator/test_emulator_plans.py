"""The plan driver against the deployed local stack: a config change shows in the summary, a planned replacement
of the archive bucket is refused by address, and prod without an alarm subscriber refuses to plan."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tools import aws, manifest, plans, stackctl
from tools.manifest import StackError


def test_a_change_in_environments_shows_up_in_the_summary(deployed, changed_synth):
    out = changed_synth("local", lambda c: replace(c, function=replace(c.function, memory_size_mb=384)))
    summary = stackctl.saved_plan("local", capture=True)
    assert ("change", next(a for _, a in summary.changes if a.startswith("aws_lambda_function."))) in summary.changes
    files = plans.files_for(manifest.find("local"), out)
    assert files.binary.exists() and files.json.exists()
    text = files.summary.read_text()
    assert text.startswith("### `serverless-app-local`: ") and "| change | `aws_lambda_function." in text


def test_a_planned_replacement_of_the_archive_bucket_is_refused_with_its_address(deployed, changed_synth):
    def rename(config):
        bucket = replace(config.log_archive.bucket, name="serverless-app-local-archive")
        return replace(config, log_archive=replace(config.log_archive, bucket=bucket))

    out = changed_synth("local", rename)
    with pytest.raises(StackError, match=r"would destroy or replace ") as refused:
        stackctl.saved_plan("local", capture=True)
    # Its name is part of the access-log bucket's too: both are named, and how to let it through on purpose.
    assert re.search(
        r"replace aws_s3_bucket\.log_archive_access_logs_bucket_\w+, aws_s3_bucket\.log_archive_bucket_\w+;",
        str(refused.value),
    )
    assert "ALLOW_DESTROY=aws_s3_bucket.log_archive_access_logs_bucket_" in str(refused.value)
    assert "**Refused**" in plans.files_for(manifest.find("local"), out).summary.read_text()


def test_prod_without_an_alarm_subscriber_refuses_to_plan(deployed, changed_synth):
    changed_synth("prod", lambda c: replace(c, monitoring=replace(c.monitoring, alarm_emails=())))
    with pytest.raises(StackError) as refused:
        stackctl.plan("prod", env=aws.emulator_environment(), capture=True)
    message = " ".join(str(refused.value).split())  # Terraform wraps long lines
    assert "no alarm subscriber. Set ALARM_EMAILS_<ENV> or ALARM_HTTPS_ENDPOINTS_<ENV>" in message
