"""The REST API: regional, keyed, throttled, logged, validated, and redeployed when it changes."""

import json

import pytest
from stack_helpers import one, ref, resources

from modules.api import ACCESS_LOG_FORMAT, ApiConfig


def test_rest_api_is_regional(prod):
    api = one(prod, "aws_api_gateway_rest_api")
    assert api["endpoint_configuration"]["types"] == ["REGIONAL"]
    assert api["api_key_source"] == "HEADER"


def test_every_method_requires_a_key_and_proxies_to_the_alias(prod):
    methods = resources(prod, "aws_api_gateway_method")
    assert {m["http_method"] for m in methods.values()} == {"ANY", "GET", "POST"}
    assert len(methods) == 4  # root, /health, /events, /{proxy+}
    for method in methods.values():
        assert method["api_key_required"] is True
        assert method["request_validator_id"].startswith("${aws_api_gateway_request_validator.")
    for integration in resources(prod, "aws_api_gateway_integration").values():
        assert integration["type"] == "AWS_PROXY" and integration["integration_http_method"] == "POST"
    paths = {r["path_part"] for r in resources(prod, "aws_api_gateway_resource").values()}
    assert paths == {"health", "events", "{proxy+}"}


def test_events_body_is_validated_against_the_handlers_schema(prod):
    from functions.api.events import EVENT_SCHEMA

    post = next(m for m in resources(prod, "aws_api_gateway_method").values() if m["http_method"] == "POST")
    model = one(prod, "aws_api_gateway_model")
    assert json.loads(model["schema"]) == EVENT_SCHEMA
    assert post["request_models"] == {
        "application/json": ref("aws_api_gateway_model", next(iter(resources(prod, "aws_api_gateway_model"))), "name")
    }
    validators = {v["name"]: v for v in resources(prod, "aws_api_gateway_request_validator").values()}
    assert validators["body"]["validate_request_body"] is True
    response = next(
        r
        for r in resources(prod, "aws_api_gateway_gateway_response").values()
        if r["response_type"] == "BAD_REQUEST_BODY"
    )
    assert response["status_code"] == "422"


def test_lambda_permission_is_scoped_to_this_api(prod):
    permission = one(prod, "aws_lambda_permission")
    api = next(iter(resources(prod, "aws_api_gateway_rest_api")))
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"] == f"{ref('aws_api_gateway_rest_api', api, 'execution_arn')}/*"
    assert permission["qualifier"].endswith(".name}")


def test_stage_logs_json_access_lines_traces_and_throttles(prod):
    stage = one(prod, "aws_api_gateway_stage")
    assert stage["xray_tracing_enabled"] is True
    assert json.loads(stage["access_log_settings"]["format"])["requestId"] == "$context.requestId"
    assert stage["access_log_settings"]["format"] == ACCESS_LOG_FORMAT
    settings = one(prod, "aws_api_gateway_method_settings")["settings"]
    assert settings["metrics_enabled"] is True and settings["data_trace_enabled"] is False
    assert (settings["throttling_rate_limit"], settings["throttling_burst_limit"]) == (1000, 2000)


def test_deployment_redeploys_on_change_before_destroying(prod):
    deployment = one(prod, "aws_api_gateway_deployment")
    assert deployment["lifecycle"]["create_before_destroy"] is True
    trigger = deployment["triggers"]["redeployment"]
    assert trigger.startswith("${sha1(jsonencode([")
    for kind in ("aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_resource"):
        for name in resources(prod, kind):
            assert f"{kind}.{name}.id" in trigger


def test_redeployment_hash_changes_when_the_api_definition_changes(monkeypatch, prod):
    from modules import api

    before = one(prod, "aws_api_gateway_deployment")["triggers"]["redeployment"]
    monkeypatch.setattr(api, "_GATEWAY_RESPONSES", api._GATEWAY_RESPONSES[:-1])
    import cdktf

    from stacks import environments
    from stacks.service import ServiceStack

    app = cdktf.Testing.app()
    stack = ServiceStack(app, "serverless-app-prod", config=environments.load()["prod"])
    after = json.loads(cdktf.Testing.synth(stack))["resource"]["aws_api_gateway_deployment"]
    assert next(iter(after.values()))["triggers"]["redeployment"] != before


def test_usage_plan_and_key(prod):
    plan = one(prod, "aws_api_gateway_usage_plan")
    assert plan["throttle_settings"] == {"rate_limit": 500, "burst_limit": 1000}
    assert plan["quota_settings"] == {"limit": 50_000_000, "period": "DAY"}
    assert one(prod, "aws_api_gateway_usage_plan_key")["key_type"] == "API_KEY"


def test_account_logging_role_is_managed_and_can_be_switched_off(prod):
    assert one(prod, "aws_api_gateway_account")["cloudwatch_role_arn"].startswith("${aws_iam_role.")
    from dataclasses import replace

    import cdktf

    from stacks import environments
    from stacks.service import ServiceStack

    config = environments.load()["dev"]
    config = replace(config, api=replace(config.api, manage_account_cloudwatch_role=False))
    stack = ServiceStack(cdktf.Testing.app(), "serverless-app-dev", config=config)
    assert "aws_api_gateway_account" not in json.loads(cdktf.Testing.synth(stack))["resource"]


def test_waf_protects_the_prod_stage_only(prod, dev, local):
    acl = one(prod, "aws_wafv2_web_acl")
    rules = json.loads(acl["rule_json"])
    assert rules[0]["Statement"]["RateBasedStatement"] == {"Limit": 2000, "AggregateKeyType": "IP"}
    assert {r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") for r in rules[1:]} == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    stage = next(iter(resources(prod, "aws_api_gateway_stage")))
    assert one(prod, "aws_wafv2_web_acl_association")["resource_arn"] == ref("aws_api_gateway_stage", stage, "arn")
    assert one(prod, "aws_wafv2_web_acl_logging_configuration")
    assert not resources(dev, "aws_wafv2_web_acl") and not resources(local, "aws_wafv2_web_acl")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"usage_plan_rate_limit": 1000, "throttle_rate_limit": 1000, "usage_plan_quota_per_day": 10_000},
            r"api.usage_plan_quota_per_day=10000 is invalid: allowed >= 3600000: at the plan's 1000 requests/s "
            r"this quota runs dry in 10 s",
        ),
        ({"throttle_rate_limit": 20_000}, "api.throttle_rate_limit=20000 is invalid: allowed 1..10000"),
        ({"throttle_burst_limit": 6000}, "api.throttle_burst_limit=6000 is invalid: allowed 1..5000"),
        ({"usage_plan_rate_limit": 200}, r"api.usage_plan_rate_limit=200 is invalid: allowed 1..100"),
        ({"usage_plan_burst_limit": 300}, r"api.usage_plan_burst_limit=300 is invalid"),
        ({"stage_name": "v-1"}, "api.stage_name='v-1' is invalid"),
        ({"name": ""}, "api.name='' is invalid"),
        ({"manage_account_cloudwatch_role": "no"}, "api.manage_account_cloudwatch_role='no' is invalid"),
    ],
)
def test_api_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        ApiConfig(**{"name": "api", **values})
