"""Bootstrap + apply of the local stack on a fresh emulator: remote state written and encrypted, outputs right.
That a re-plan of the local stack changes nothing is test_emulator_release.py's drift report (it names the one
resource changed by hand, and nothing else); the bootstrap's is the cdktf CLI's (test_emulator_cdktf_cli.py)."""

import json

from tools import archive


def test_local_state_object_is_in_the_state_bucket_encrypted_with_the_bootstrap_key(deployed):
    bucket = deployed.bootstrap["state_bucket_name"]
    assert archive.state_objects(bucket, "serverless-app-local") == ["serverless-app-local/terraform.tfstate"]
    s3 = deployed.client("s3")
    head = s3.head_object(Bucket=bucket, Key="serverless-app-local/terraform.tfstate")
    assert head["ServerSideEncryption"] == "aws:kms"
    state = json.loads(s3.get_object(Bucket=bucket, Key="serverless-app-local/terraform.tfstate")["Body"].read())
    types = {r["type"] for r in state["resources"]}
    assert {"aws_lambda_function", "aws_api_gateway_rest_api", "aws_kinesis_firehose_delivery_stream"} <= types
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_outputs_describe_the_deployed_stack(deployed):
    outputs = deployed.outputs
    assert outputs["function_name"] == "serverless-app-local-api"
    # Bucket names are global, so they carry the account id (the emulator's).
    assert outputs["log_bucket_name"] == "serverless-app-local-logs-123456789012"
    assert str(outputs["api_url"]).endswith("/v1")
    functions = deployed.client("lambda").list_functions()["Functions"]
    assert [f["FunctionName"] for f in functions] == ["serverless-app-local-api"]
    alias = deployed.client("lambda").get_alias(FunctionName="serverless-app-local-api", Name="live")
    assert alias["FunctionVersion"] != "$LATEST"
