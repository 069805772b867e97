"""On the run's state bucket: dev and prod, whose state it keeps, plan every resource with the real provider; and
prod without an alarm subscriber refuses to plan (a precondition Terraform evaluates at plan time, whichever tool
runs the plan). A re-plan of the bootstrap itself is test_emulator_cdktf_cli.py's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tools import aws, manifest, stackctl
from tools.manifest import StackError


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_a_first_plan_adds_everything_with_its_state_in_the_bootstrap_bucket(environments, environment):
    # The backend's lock file goes to that bucket: the plan fails unless the bucket exists.
    backend = manifest.find(environment).tf["terraform"]["backend"]["s3"]
    assert backend["bucket"] == environments.bootstrap["state_bucket_name"]
    result = stackctl.plan(environment, env=aws.emulator_environment(), detailed_exitcode=True, capture=True)
    assert result.returncode == 2, result.stdout  # a plan with changes: nothing of it exists yet
    assert "Plan: " in result.stdout and " to add, 0 to change, 0 to destroy" in result.stdout


def test_prod_without_an_alarm_subscriber_refuses_to_plan(environments, changed_synth):
    changed_synth("prod", lambda c: replace(c, monitoring=replace(c.monitoring, alarm_emails=())))
    # The topic alone (and what it depends on) is planned: its precondition is the refusal, and the rest of prod is
    # planned in full above (its WAF ACL alone takes the provider a CPU-second to plan).
    (topic,) = manifest.find("prod").resources("aws_sns_topic")
    with pytest.raises(StackError) as refused:
        stackctl.plan("prod", env=aws.emulator_environment(), capture=True, targets=(f"aws_sns_topic.{topic}",))
    message = " ".join(str(refused.value).split())  # Terraform wraps long lines
    assert "no alarm subscriber. Set ALARM_EMAILS_<ENV> or ALARM_HTTPS_ENDPOINTS_<ENV>" in message
