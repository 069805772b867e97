"""A release on the emulator, the day after someone suspended the archive's versioning by hand (which `make drift`
reported, test_emulator_plans.py): `make release` of a new function version (strategy ``direct``: the emulator
cannot delete CodeDeploy resources) repairs it with the same apply that publishes the version and moves the alias,
and `make drift` then finds nothing, so neither the release nor the repair leaves a perpetual diff. The CodeDeploy
path (dev, prod) is tested with recorded responses in tests/release/."""

from __future__ import annotations

from tools import aws, release, stackctl

STATE_KEY = "serverless-app-local/terraform.tfstate"


def test_a_release_repairs_the_drift_and_moves_the_alias_and_leaves_no_diff(
    deployed, changed_synth, capsys, record_property
):
    s3, lambda_ = deployed.client("s3"), deployed.client("lambda")
    bucket = deployed.outputs["log_bucket_name"]
    # Suspended already when the chain ran the drift report; again here, so that this test stands alone.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    before = lambda_.get_alias(FunctionName="serverless-app-local-api", Name="live")["FunctionVersion"]
    changed_synth("local", lambda c: c.with_function(version="1.0.1"))
    lines: list[str] = []
    assert release.release("local", out=lines.append, capture=True) == 0
    after = lambda_.get_alias(FunctionName="serverless-app-local-api", Name="live")["FunctionVersion"]
    assert int(after) > int(before)
    # Every route group in turn, the first first: the changed one serves its new version, the other its newest.
    assert lines[0] == "route group api (serverless-app-local-api):"
    assert lines[1] == f"released: live serves version {after}, the newest (strategy direct: the apply moved it)"
    assert lines[2] == "route group admin (serverless-app-local-admin):" and lines[3].startswith("released: live")
    assert not aws.emulator_client("codedeploy").list_applications()["applications"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    assert stackctl.drift("local") == 0
    assert "no drift in serverless-app-local" in capsys.readouterr().out
    record_property(
        "summary", "release: suspended versioning repaired by the release's apply, then `make drift` exit 0"
    )


def test_the_state_bucket_keeps_the_state_from_before_the_release(deployed):
    s3 = deployed.client("s3")
    versions = s3.list_object_versions(Bucket=deployed.bootstrap["state_bucket_name"], Prefix=STATE_KEY)["Versions"]
    state_versions = [v for v in versions if v["Key"] == STATE_KEY]
    assert len(state_versions) >= 2, "the state from before the release must remain, for rollback"
