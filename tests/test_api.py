"""The REST API: regional, keyed, throttled, logged, validated, and redeployed when it changes."""

import json

import pytest
from stack_helpers import DEPLOYED, one, ref, resources

from modules.api_config import ACCESS_LOG_FORMAT, ApiConfig


def test_rest_api_is_regional(prod):
    api = one(prod, "aws_api_gateway_rest_api")
    assert api["endpoint_configuration"]["types"] == ["REGIONAL"]
    assert api["api_key_source"] == "HEADER"


def _methods_by_path(stack) -> dict[str, set[str]]:
    """``{"/events": {"POST", "ANY"}, ...}`` read back from the synthesized resources."""
    from tools.local_api import read_routes

    return {path: set(methods) for path, methods in read_routes(stack["resource"]).items()}


def test_every_operation_of_the_contract_is_a_method_with_its_caller_check_proxying_to_the_alias(prod):
    from stacks.contract import document

    expected = {path: {m.upper() for m in item} | {"ANY"} for path, item in document()["paths"].items()}
    assert _methods_by_path(prod) == {**expected, "/": {"ANY"}, "/{proxy+}": {"ANY"}}
    assert set(expected) == {"/health", "/events", "/whoami", "/internal/events", "/admin/deployment"}
    for method in resources(prod, "aws_api_gateway_method").values():
        assert method["request_validator_id"].startswith("${aws_api_gateway_request_validator.")
    for integration in resources(prod, "aws_api_gateway_integration").values():
        assert integration["type"] == "AWS_PROXY" and integration["integration_http_method"] == "POST"
        assert integration["uri"].endswith(".invoke_arn}")  # the alias's, not the unqualified function's
    methods = {name: m for name, m in resources(prod, "aws_api_gateway_method").items()}

    def check(prefix: str) -> tuple:
        (method,) = [m for name, m in methods.items() if name.startswith(f"api_{prefix}_method")]
        return method["authorization"], method.get("authorization_scopes"), method["api_key_required"]

    authorizer = ref("aws_api_gateway_authorizer", next(iter(resources(prod, "aws_api_gateway_authorizer"))))
    assert check("events_post") == ("COGNITO_USER_POOLS", ["events/write"], True)
    assert check("whoami_get") == ("COGNITO_USER_POOLS", ["events/read", "events/write"], True)
    assert check("health_get") == ("NONE", None, True)  # the key alone: nothing in it but "up"
    assert check("internal_events_post") == ("AWS_IAM", None, False)
    # The fallbacks that let the function answer 404/405: as the path's operations, else any token of this API.
    assert check("health_any") == ("NONE", None, True)
    assert check("internal_events_any") == ("AWS_IAM", None, False)
    assert check("admin_deployment_get") == check("admin_deployment_any") == ("AWS_IAM", None, False)
    for fallback in ("events_any", "whoami_any", "root_any", "proxy_any"):
        assert check(fallback) == ("COGNITO_USER_POOLS", ["events/read", "events/write"], True), fallback
    for method in methods.values():
        if method["authorization"] == "COGNITO_USER_POOLS":
            assert method["authorizer_id"] == authorizer


def test_each_path_proxies_to_the_alias_of_the_route_group_that_declares_it(prod):
    from modules.openapi import slug
    from stacks.contract import route_owners
    from stacks.environments import ROUTE_GROUPS

    names = {
        ref("aws_lambda_function", k, "function_name"): f["function_name"]
        for k, f in resources(prod, "aws_lambda_function").items()
    }
    function_of = {
        ref("aws_lambda_alias", k, "invoke_arn"): names[a["function_name"]]
        for k, a in resources(prod, "aws_lambda_alias").items()
    }
    owners = route_owners({name: name for name in ROUTE_GROUPS})
    assert set(owners.values()) == set(ROUTE_GROUPS)
    for name, integration in resources(prod, "aws_api_gateway_integration").items():
        path = next((p for p in owners if name.startswith(f"api_{slug(p)}_")), None)
        group = owners.get(path, next(iter(ROUTE_GROUPS)))  # the fallbacks (/, /{proxy+}) go to the first group
        assert function_of[integration["uri"]] == f"serverless-app-prod-{group}", name


def test_prod_has_no_method_without_a_caller_check_but_what_the_contract_marks_public(prod):
    from modules.openapi import operations
    from stacks.contract import document

    public = {(op.method, op.path) for op in operations(document()) if op.access.public}
    assert public == {("GET", "/health")}
    paths = {
        ref("aws_api_gateway_resource", name, "id"): r
        for name, r in resources(prod, "aws_api_gateway_resource").items()
    }

    def path_of(resource_id: str) -> str:
        node = paths.get(resource_id)
        return "/" if node is None else path_of(node["parent_id"]).rstrip("/") + "/" + node["path_part"]

    unauthenticated = {
        (m["http_method"], path_of(m["resource_id"]))
        for m in resources(prod, "aws_api_gateway_method").values()
        if m["authorization"] == "NONE"
    }
    # /health's own fallback needs the key, like /health (prod has no CORS, so no preflight either).
    assert unauthenticated == {("GET", "/health"), ("ANY", "/health")}


def test_the_cognito_authorizer_trusts_the_stacks_user_pool(prod):
    authorizer = one(prod, "aws_api_gateway_authorizer")
    pool = next(iter(resources(prod, "aws_cognito_user_pool")))
    assert authorizer["type"] == "COGNITO_USER_POOLS"
    assert authorizer["provider_arns"] == [ref("aws_cognito_user_pool", pool, "arn")]
    assert authorizer["identity_source"] == "method.request.header.Authorization"


def test_events_body_is_validated_against_the_contracts_draft4_model(prod):
    from modules.openapi import draft4
    from stacks.contract import document

    contract = document()
    schema = contract["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    model = one(prod, "aws_api_gateway_model")
    assert model["name"] == "Event"
    assert json.loads(model["schema"]) == draft4(schema, contract["components"]["schemas"])
    body = json.loads(model["schema"])
    assert body["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert body["additionalProperties"] is False and body["required"] == ["type", "payload"]
    assert body["properties"]["type"]["pattern"] == "^[A-Za-z0-9._-]{1,64}$"
    assert "examples" not in json.dumps(body)  # a draft-06 keyword API Gateway refuses
    post = next(m for m in resources(prod, "aws_api_gateway_method").values() if m["http_method"] == "POST")
    assert post["request_models"] == {
        "application/json": ref("aws_api_gateway_model", next(iter(resources(prod, "aws_api_gateway_model"))), "name")
    }
    validators = {v["name"]: v for v in resources(prod, "aws_api_gateway_request_validator").values()}
    assert validators["body"]["validate_request_body"] is True
    assert validators["params"]["validate_request_body"] is False
    response = next(
        r
        for r in resources(prod, "aws_api_gateway_gateway_response").values()
        if r["response_type"] == "BAD_REQUEST_BODY"
    )
    assert response["status_code"] == "422"


def test_a_route_added_to_the_contract_reaches_api_gateway_with_its_scope_and_redeploys(monkeypatch, prod):
    import cdktf

    from stacks import contract as contract_module
    from stacks import environments
    from stacks.service import ServiceStack

    document = contract_module.document()
    document["paths"]["/events/{id}"] = {
        "get": {
            "security": [{"cognito": ["events/admin"], "apiKey": []}],
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        }
    }
    document["components"]["securitySchemes"]["cognito"]["flows"]["clientCredentials"]["scopes"]["events/admin"] = (
        "Read any event"
    )
    owners = contract_module.route_owners({"api": "api", "admin": "admin"})
    monkeypatch.setattr(contract_module, "document", lambda configs=None, packages=(): document)
    monkeypatch.setattr(contract_module, "route_owners", lambda groups: {**owners, "/events/{id}": "api"})
    stack = ServiceStack(cdktf.Testing.app(), "serverless-app-prod", config=environments.load(DEPLOYED)["prod"])
    changed = json.loads(cdktf.Testing.synth(stack))
    methods = changed["resource"]["aws_api_gateway_method"]
    get = next(m for name, m in methods.items() if name.startswith("api_events_id_get"))
    assert get["request_parameters"] == {"method.request.path.id": True}
    assert (get["authorization"], get["authorization_scopes"], get["api_key_required"]) == (
        "COGNITO_USER_POOLS",
        ["events/admin"],
        True,
    )
    # The user pool's resource server gains the scope: the contract is where scopes are declared.
    (server,) = changed["resource"]["aws_cognito_resource_server"].values()
    assert {s["scope_name"] for s in server["scope"]} == {"read", "write", "admin"}
    parent = next(r for r in changed["resource"]["aws_api_gateway_resource"].values() if r["path_part"] == "{id}")
    assert parent["parent_id"].startswith("${aws_api_gateway_resource.api_events_resource")
    before = one(prod, "aws_api_gateway_deployment")["triggers"]["redeployment"]
    assert next(iter(changed["resource"]["aws_api_gateway_deployment"].values()))["triggers"]["redeployment"] != before


@pytest.mark.parametrize(
    ("security", "message"),
    [
        (None, "GET /x: no security requirement; every operation must say who may call it"),
        ([{"cognito": ["events/read"]}, {"apiKey": []}], "GET /x: security=.* is invalid: allowed exactly one"),
        ([{"nobody": []}], "GET /x: security scheme 'nobody' is not declared"),
        ([{"cognito": []}], "GET /x: scheme 'cognito' without scopes"),
        ([{"cognito": ["events/read"], "sigv4": []}], "GET /x: security .* names two identity schemes"),
    ],
)
def test_a_contract_api_gateway_cannot_build_is_refused_naming_the_operation(security, message):
    from modules.openapi import ContractError, operations
    from stacks.contract import document

    contract = document()
    contract["paths"] = {"/x": {"get": {} if security is None else {"security": security}}}
    with pytest.raises(ContractError, match=message):
        list(operations(contract))


def test_draft4_inlines_references_and_turns_nullable_into_a_type_list():
    from modules.openapi import draft4

    components = {"Thing": {"type": "object", "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}}
    converted = draft4({"$ref": "#/components/schemas/Thing", "examples": [1]}, components)
    assert converted == {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {"n": {"type": ["integer", "null"]}},
    }
    assert draft4({"const": "ok"}, {})["enum"] == ["ok"]


def test_lambda_permission_is_scoped_to_this_api_one_per_route_group(prod):
    from stacks.environments import ROUTE_GROUPS

    permissions = list(resources(prod, "aws_lambda_permission").values())
    assert len(permissions) == len(ROUTE_GROUPS)
    api = next(iter(resources(prod, "aws_api_gateway_rest_api")))
    for permission in permissions:
        assert permission["principal"] == "apigateway.amazonaws.com"
        assert permission["source_arn"] == f"{ref('aws_api_gateway_rest_api', api, 'execution_arn')}/*"
        assert permission["qualifier"].endswith(".name}")
    assert len({p["function_name"] for p in permissions}) == len(ROUTE_GROUPS)


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
    monkeypatch.setattr(api, "GATEWAY_RESPONSES", api.GATEWAY_RESPONSES[:-1])
    import cdktf

    from stacks import environments
    from stacks.service import ServiceStack

    app = cdktf.Testing.app()
    stack = ServiceStack(app, "serverless-app-prod", config=environments.load(DEPLOYED)["prod"])
    after = json.loads(cdktf.Testing.synth(stack))["resource"]["aws_api_gateway_deployment"]
    assert next(iter(after.values()))["triggers"]["redeployment"] != before


def test_usage_plan_without_keys_in_the_state(synth, prod):
    plan = one(prod, "aws_api_gateway_usage_plan")
    assert plan["throttle_settings"] == {"rate_limit": 500, "burst_limit": 1000}
    assert plan["quota_settings"] == {"limit": 50_000_000, "period": "DAY"}
    # Keys are issued into the plan by `make client` (tools/clients.py): a key Terraform made would sit in plain text
    # in the state and in every saved plan, which every plan role reads.
    for tf in synth.stacks.values():
        assert not resources(tf, "aws_api_gateway_api_key") and not resources(tf, "aws_api_gateway_usage_plan_key")
        assert not [name for name, output in tf.get("output", {}).items() if output.get("sensitive")]
    assert prod["output"]["usage_plan_id"]["value"] == ref(
        "aws_api_gateway_usage_plan", next(iter(resources(prod, "aws_api_gateway_usage_plan"))), "id"
    )


def test_waf_protects_the_prod_stage_only(prod, dev, local):
    acl = one(prod, "aws_wafv2_web_acl")
    assert "rule_json" not in acl  # rule blocks: the provider compares them with what is deployed (drift)
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert rules["rate-limit-per-ip"]["statement"] == {
        "rate_based_statement": {"limit": 150_000, "aggregate_key_type": "IP"}
    }
    assert rules["rate-limit-per-ip"]["action"] == {"block": {}}
    groups = {
        name: r["statement"]["managed_rule_group_statement"] for name, r in rules.items() if name != "rate-limit-per-ip"
    }
    assert set(groups) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    stage = next(iter(resources(prod, "aws_api_gateway_stage")))
    assert one(prod, "aws_wafv2_web_acl_association")["resource_arn"] == ref("aws_api_gateway_stage", stage, "arn")
    assert one(prod, "aws_wafv2_web_acl_logging_configuration")
    assert not resources(dev, "aws_wafv2_web_acl") and not resources(local, "aws_wafv2_web_acl")


def test_waf_counts_the_rules_that_misjudge_free_form_events_and_inspects_64_kb(prod):
    from functions.api.models import MAX_BODY_BYTES

    acl = one(prod, "aws_wafv2_web_acl")
    common = next(r for r in acl["rule"] if r["name"] == "AWSManagedRulesCommonRuleSet")
    overrides = common["statement"]["managed_rule_group_statement"]["rule_action_override"]
    assert overrides == [
        {"name": rule, "action_to_use": {"count": {}}}
        for rule in ("SizeRestrictions_BODY", "GenericRFI_BODY", "NoUserAgent_HEADER")
    ]
    assert MAX_BODY_BYTES == 256 * 1024  # answered with 413 by the handler, in every environment
    # WAF judges an API Gateway body on its first 16 KB unless told otherwise; prod pays for 64 KB.
    assert acl["association_config"] == {"request_body": [{"api_gateway": {"default_size_inspection_limit": "KB_64"}}]}


def test_waf_never_writes_credentials_into_its_logs(prod):
    logging = one(prod, "aws_wafv2_web_acl_logging_configuration")
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "authorization"}},
        {"single_header": {"name": "x-api-key"}},
    ]


def test_waf_rate_limit_must_admit_one_key_at_its_usage_plans_full_rate():
    from dataclasses import replace

    from stacks import environments

    config = environments.load(DEPLOYED)["prod"]
    with pytest.raises(
        ValueError,
        match=r"waf.rate_limit_per_5_minutes=2000 is invalid: allowed >= 150000 "
        r"\(api.usage_plan_rate_limit 500/s x 300 s\)",
    ):
        replace(config, waf=replace(config.waf, rate_limit_per_5_minutes=2000))


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
    ],
)
def test_api_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        ApiConfig(**{"name": "api", **values})
