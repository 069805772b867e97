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
    # The custom domain is the way in (the stage's execute-api endpoint is off).
    assert outputs["api_url"] == "https://api.serverless-app-local.test"
    functions = deployed.client("lambda").list_functions()["Functions"]
    # One function per route group, each invoked through its published live alias.
    groups = json.loads(outputs["route_groups"])
    assert sorted(f["FunctionName"] for f in functions) == sorted(g["function_name"] for g in groups.values())
    assert sorted(groups) == ["admin", "api"]
    for group in groups.values():
        alias = deployed.client("lambda").get_alias(FunctionName=group["function_name"], Name="live")
        assert alias["FunctionVersion"] != "$LATEST"


def test_the_custom_domain_maps_its_root_to_the_stage_with_tls_1_2(deployed):
    apigateway = deployed.client("apigateway")
    domain = apigateway.get_domain_name(domainName="api.serverless-app-local.test")
    assert domain["securityPolicy"] == "TLS_1_2"
    assert domain["endpointConfiguration"]["types"] == ["REGIONAL"]
    certificate = deployed.client("acm").describe_certificate(CertificateArn=domain["regionalCertificateArn"])
    assert certificate["Certificate"]["DomainName"] == "api.serverless-app-local.test"
    (mapping,) = apigateway.get_base_path_mappings(domainName="api.serverless-app-local.test")["items"]
    api = next(a for a in apigateway.get_rest_apis()["items"] if a["name"] == "serverless-app-local")
    assert (mapping["restApiId"], mapping["stage"], mapping.get("basePath", "(none)")) == (api["id"], "v1", "(none)")
    assert api["disableExecuteApiEndpoint"] is True


def test_the_user_pool_the_authorizer_trusts_issues_signed_tokens_it_publishes_keys_for(deployed):
    import urllib.request

    identity = json.loads(deployed.outputs["identity_settings"])
    cognito = deployed.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=identity["user_pool_id"])["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["MfaConfiguration"] == "OPTIONAL"
    (authorizer,) = deployed.client("apigateway").get_authorizers(
        restApiId=next(a["id"] for a in deployed.client("apigateway").get_rest_apis()["items"])
    )["items"]
    assert authorizer["type"] == "COGNITO_USER_POOLS" and authorizer["providerARNs"] == [pool["Arn"]]
    with urllib.request.urlopen(f"{deployed.client('s3').meta.endpoint_url}/{pool['Id']}/.well-known/jwks.json") as r:
        assert [key["kid"] for key in json.loads(r.read())["keys"]] == ["dummy"]
    # The client `make client` issued: an app client of the pool, with the client-credentials grant and the scopes.
    app = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=deployed.credentials["client_id"])
    assert app["UserPoolClient"]["AllowedOAuthFlows"] == ["client_credentials"]
    assert sorted(app["UserPoolClient"]["AllowedOAuthScopes"]) == ["events/read", "events/write"]


def test_outputs_are_read_from_terraform_once_per_version_of_the_state(deployed, monkeypatch):
    from tools import manifest, stackctl

    stack = manifest.find("local")
    kept = stack.directory / ".terraform" / "outputs.json"
    assert json.loads(kept.read_text()) == {"state": stackctl.state_version(stack), "outputs": deployed.outputs}
    runs: list[tuple] = []
    terraform = stackctl.terraform
    monkeypatch.setattr(stackctl, "terraform", lambda *args, **kwargs: runs.append(args) or terraform(*args, **kwargs))
    assert stackctl.outputs("local") == deployed.outputs and runs == []
    # Kept from another version of the state (someone applied since): Terraform is asked again, and its answer kept.
    kept.write_text(json.dumps({"state": "s3:an-older-version", "outputs": {"stale": True}}))
    assert stackctl.outputs("local") == deployed.outputs and len(runs) == 1
    assert json.loads(kept.read_text())["state"] == stackctl.state_version(stack)
