"""Drift: a change made behind Terraform's back is detected, and an apply puts it right."""

from tools import stackctl


def test_suspended_versioning_is_reported_as_drift_and_repaired(deployed, capsys, record_property):
    s3 = deployed.client("s3")
    bucket = deployed.outputs["log_bucket_name"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert stackctl.drift("local") == 2
    report = capsys.readouterr().out
    assert "DRIFT in serverless-app-local" in report
    assert "aws_s3_bucket_versioning.log_archive_versioning" in report
    stackctl.apply("local", capture=True)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert stackctl.drift("local") == 0
    record_property("summary", "drift: suspended versioning detected (exit 2), repaired by apply (exit 0)")
