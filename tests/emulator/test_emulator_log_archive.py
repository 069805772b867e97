"""A structured log line written to a subscribed group lands in the versioned, KMS-encrypted archive."""

import json
import time
import uuid

import pytest

from tools import archive

FUNCTION_GROUP = "/aws/lambda/serverless-app-local-api"


def _archived_lines(bucket: str, prefix: str, seen: set[str]) -> list[str]:
    lines = []
    for _, text in archive.archived_texts(bucket, prefix, seen):
        try:  # the emulator stores CloudWatch Logs envelopes; AWS stores the extracted lines
            lines += [event["message"] for event in json.loads(text)["logEvents"]]
        except (ValueError, KeyError):
            lines += text.splitlines()
    return lines


def test_log_events_reach_the_archive_bucket(deployed):
    logs = deployed.client("logs")
    marker = uuid.uuid4().hex
    stream = f"test-{marker}"
    logs.create_log_stream(logGroupName=FUNCTION_GROUP, logStreamName=stream)
    events = [
        {
            "timestamp": int(time.time() * 1000),
            "message": json.dumps({"level": "INFO", "message": "event accepted", "marker": marker, "n": n}),
        }
        for n in range(3)
    ]
    logs.put_log_events(logGroupName=FUNCTION_GROUP, logStreamName=stream, logEvents=events)
    bucket = deployed.outputs["log_bucket_name"]
    prefix = "logs/lambda/serverless-app-local-api/"
    deadline = time.monotonic() + 20
    found, seen = [], set()
    while time.monotonic() < deadline and len(found) < 3:
        found += [json.loads(line) for line in _archived_lines(bucket, prefix, seen) if marker in line]
        time.sleep(0.5)
    assert sorted(record["n"] for record in found) == [0, 1, 2]


def test_archive_bucket_reports_its_safeguards(deployed):
    s3 = deployed.client("s3")
    bucket = deployed.outputs["log_bucket_name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == deployed.outputs["kms_key_arn"]
    assert rule["BucketKeyEnabled"] is True
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    assert logging["TargetBucket"] == f"{bucket}-access-logs"
    assert (
        s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        == "BucketOwnerEnforced"
    )


def test_a_second_write_of_the_same_key_keeps_both_versions(deployed):
    s3 = deployed.client("s3")
    bucket = deployed.outputs["log_bucket_name"]
    key = f"tests/versioning-{uuid.uuid4().hex}.json"
    first = s3.put_object(Bucket=bucket, Key=key, Body=b'{"v":1}')["VersionId"]
    second = s3.put_object(Bucket=bucket, Key=key, Body=b'{"v":2}')["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert {v["VersionId"] for v in versions} == {first, second}
    assert s3.get_object(Bucket=bucket, Key=key, VersionId=first)["Body"].read() == b'{"v":1}'


@pytest.mark.parametrize("group", [FUNCTION_GROUP, "/aws/apigateway/serverless-app-local/access"])
def test_each_log_group_is_subscribed_and_encrypted(deployed, group):
    logs = deployed.client("logs")
    (filter_,) = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert ":firehose:" in filter_["destinationArn"]
    (described,) = [
        g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group
    ]
    assert described["kmsKeyId"] == deployed.outputs["kms_key_arn"]
    assert described["retentionInDays"] == 7
