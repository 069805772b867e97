"""A release on the emulator (strategy ``direct``: the emulator cannot delete CodeDeploy resources): a changed
function publishes a new version, the apply moves the alias to it, `make release` says so, and a plan right
after shows no change. The CodeDeploy path (dev, prod) is tested with recorded responses in tests/release/."""

from __future__ import annotations

from dataclasses import replace

from tools import aws, release, stackctl


def test_a_release_moves_the_alias_to_the_new_version_and_a_plan_after_it_is_clean(deployed, changed_synth):
    lambda_ = aws.emulator_client("lambda")
    before = lambda_.get_alias(FunctionName="serverless-app-local-api", Name="live")["FunctionVersion"]
    changed_synth("local", lambda c: replace(c, function=replace(c.function, version="1.0.1")))
    lines: list[str] = []
    assert release.release("local", out=lines.append, capture=True) == 0
    after = lambda_.get_alias(FunctionName="serverless-app-local-api", Name="live")["FunctionVersion"]
    assert int(after) > int(before)
    assert lines[-1] == f"released: live serves version {after}, the newest (strategy direct: the apply moved it)"
    assert not aws.emulator_client("codedeploy").list_applications()["applications"]
    plan = stackctl.plan("local", detailed_exitcode=True, capture=True)
    assert plan.returncode == 0, plan.stdout
