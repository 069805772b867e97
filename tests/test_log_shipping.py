"""Log shipping: every log group the stack creates is subscribed to a Firehose stream into the archive."""

import pytest
from stack_helpers import ref, resources, statements

from modules.log_shipping import LogShippingConfig


@pytest.mark.parametrize("environment", ["local", "dev", "prod"])
def test_every_application_log_group_is_shipped_encrypted_and_retained(synth, environment):
    tf = synth.stack(environment)
    groups = resources(tf, "aws_cloudwatch_log_group")
    subscribed = {f["log_group_name"] for f in resources(tf, "aws_cloudwatch_log_subscription_filter").values()}
    for name, group in groups.items():
        assert group["kms_key_id"].startswith("${aws_kms_key."), name
        assert group["retention_in_days"] > 0, name
        if group["name"].startswith("/aws/kinesisfirehose/"):
            assert ref("aws_cloudwatch_log_group", name, "name") not in subscribed, "error group must not loop"
        else:
            assert ref("aws_cloudwatch_log_group", name, "name") in subscribed, group["name"]


def test_prod_ships_function_api_access_execution_and_waf_logs(prod):
    names = {g["name"] for g in resources(prod, "aws_cloudwatch_log_group").values()}
    assert "/aws/lambda/serverless-app-prod-api" in names
    assert "/aws/apigateway/serverless-app-prod/access" in names
    assert "aws-waf-logs-serverless-app-prod" in names
    assert any(n.startswith("API-Gateway-Execution-Logs_") for n in names)


def test_firehose_streams_encrypt_compress_buffer_and_prefix_by_source(prod):
    streams = resources(prod, "aws_kinesis_firehose_delivery_stream")
    assert len(streams) == 6
    key = ref("aws_kms_key", next(iter(resources(prod, "aws_kms_key"))), "arn")
    for stream in streams.values():
        assert stream["server_side_encryption"] == {"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": key}
        s3 = stream["extended_s3_configuration"]
        assert s3["compression_format"] == "GZIP"
        assert s3["kms_key_arn"] == key
        assert s3["buffering_interval"] == 300 and s3["buffering_size"] == 5
        source = s3["prefix"].removeprefix("logs/").rstrip("/")
        assert s3["prefix"] == f"logs/{source}/" and s3["error_output_prefix"] == f"errors/{source}/"
        assert s3["cloudwatch_logging_options"]["enabled"] is True
        processors = [p["type"] for p in s3["processing_configuration"]["processors"]]
        # Extracted log events are separate records; without the delimiter they would run together in the object.
        assert processors == ["Decompression", "CloudWatchLogProcessing", "AppendDelimiterToRecord"]
    names = sorted(s["name"] for s in streams.values())
    assert names == [
        "serverless-app-prod-apigateway-access",
        "serverless-app-prod-apigateway-execution",
        "serverless-app-prod-lambda-admin",
        "serverless-app-prod-lambda-api",
        "serverless-app-prod-lambda-release-hook",
        "serverless-app-prod-waf",
    ]


def test_subscription_role_may_only_put_records_into_its_streams(prod):
    policies = [p for p in resources(prod, "aws_iam_role_policy").values() if p["name"].startswith("put-")]
    assert len(policies) == 6
    for policy in policies:
        (statement,) = statements(policy).values()
        assert statement["Action"] == ["firehose:PutRecord", "firehose:PutRecordBatch"]
        assert statement["Resource"].startswith("${aws_kinesis_firehose_delivery_stream.")
    role = next(r for r in resources(prod, "aws_iam_role").values() if r["name"].endswith("logs-to-firehose"))
    trust = statements(role, "assume_role_policy")["0"]
    assert trust["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    # CloudWatch Logs' documented guard for a subscription role: this account's logs are the source.
    assert trust["Condition"] == {"ArnLike": {"aws:SourceArn": trust["Condition"]["ArnLike"]["aws:SourceArn"]}}
    source = trust["Condition"]["ArnLike"]["aws:SourceArn"]
    assert ":logs:us-east-1:${data.aws_caller_identity." in source and source.endswith(".account_id}:*")


def test_firehose_role_writes_only_the_archive(prod):
    policy = next(p for p in resources(prod, "aws_iam_role_policy").values() if p["name"] == "deliver-to-archive")
    policy = statements(policy)
    archive = next(
        k
        for k, b in resources(prod, "aws_s3_bucket").items()
        if b["bucket"].startswith("serverless-app-prod-logs-") and "access" not in b["bucket"]
    )
    arn = ref("aws_s3_bucket", archive, "arn")
    assert set(policy["WriteArchive"]["Resource"]) == {arn, f"{arn}/*"}
    assert "s3:DeleteObject" not in policy["WriteArchive"]["Action"]
    # Bucket keys are on: S3 calls KMS with the bucket ARN as context, not the object's (the test suite in
    # tests/simulation/ evaluates this request; here the synthesized condition itself).
    assert policy["EncryptArchiveObjects"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": arn}
    }


def test_firehose_trusts_with_its_documented_external_id(prod):
    role = next(r for r in resources(prod, "aws_iam_role").values() if r["name"] == "serverless-app-prod-firehose")
    trust = statements(role, "assume_role_policy")["0"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert list(trust["Condition"]) == ["StringEquals"] and list(trust["Condition"]["StringEquals"]) == [
        "sts:ExternalId"
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"buffering_size_in_mb": 0}, "log_shipping.buffering_size_in_mb=0 is invalid: allowed 1..128"),
        ({"buffering_interval_in_seconds": 901}, "log_shipping.buffering_interval_in_seconds=901 is invalid"),
        ({"log_retention_in_days": 45}, "log_shipping.log_retention_in_days=45 is invalid: allowed one of"),
        ({"name_prefix": "Bad Prefix"}, "log_shipping.name_prefix='Bad Prefix' is invalid"),
    ],
)
def test_log_shipping_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        LogShippingConfig(**{"name_prefix": "app-dev", **values})
