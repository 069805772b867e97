"""The front door: the user pool and its scopes, the REST API's resource policy, CORS, and the custom domain."""

from __future__ import annotations

import json
from dataclasses import replace

import cdktf
import pytest
from stack_helpers import DEPLOYED, one, ref, resources

from modules.api_domain import DomainConfig
from modules.cors import CorsConfig
from modules.identity import IdentityConfig
from stacks import environments
from stacks.service import ServiceStack


def _synth(config) -> dict:
    return json.loads(cdktf.Testing.synth(ServiceStack(cdktf.Testing.app(), config.stack_name, config=config)))


@pytest.fixture(scope="module")
def prod_config():
    return environments.load(DEPLOYED)["prod"]


# --- the user pool --------------------------------------------------------------------------------------------


def test_the_prod_pool_is_hardened(prod):
    pool = one(prod, "aws_cognito_user_pool")
    assert pool["admin_create_user_config"] == {"allow_admin_create_user_only": True}  # no self sign-up
    assert pool["mfa_configuration"] == "OPTIONAL" and pool["software_token_mfa_configuration"] == {"enabled": True}
    assert pool["user_pool_tier"] == "PLUS" and pool["user_pool_add_ons"] == {"advanced_security_mode": "ENFORCED"}
    assert pool["deletion_protection"] == "ACTIVE" and pool["lifecycle"]["prevent_destroy"] is True
    policy = pool["password_policy"]
    assert policy["minimum_length"] == 14 and all(
        policy[f"require_{kind}"] for kind in ("lowercase", "uppercase", "numbers", "symbols")
    )
    assert pool["account_recovery_setting"]["recovery_mechanism"] == [{"name": "verified_email", "priority": 1}]
    # No app client in the stack: its secret would sit in the state (make client issues them).
    assert not resources(prod, "aws_cognito_user_pool_client")


def test_the_resource_server_has_exactly_the_contracts_scopes(prod):
    from modules.openapi import oauth_scopes
    from stacks.contract import document

    server = one(prod, "aws_cognito_resource_server")
    assert server["identifier"] == "events"
    declared = {f"events/{s['scope_name']}" for s in server["scope"]}
    assert declared == set(oauth_scopes(document())) == {"events/read", "events/write"}


def test_the_token_endpoint_is_the_pools_domain_and_the_stack_says_where(prod, local):
    domain = one(prod, "aws_cognito_user_pool_domain")
    assert domain["domain"].startswith("serverless-app-prod-${data.aws_caller_identity.")
    settings = prod["output"]["identity_settings"]["value"]
    assert "amazoncognito.com/oauth2/token" in settings and "access_token_validity_minutes" in settings
    # The emulator has no token endpoint and cannot delete a resource server: local has neither.
    assert not resources(local, "aws_cognito_user_pool_domain")
    assert not resources(local, "aws_cognito_resource_server")


def test_dev_goes_without_threat_protection_and_can_be_deleted(dev):
    pool = one(dev, "aws_cognito_user_pool")
    assert "user_pool_tier" not in pool and "user_pool_add_ons" not in pool  # Cognito's default tier: Essentials
    assert pool["deletion_protection"] == "INACTIVE"


def test_an_external_pool_is_trusted_as_it_is(prod_config):
    arn = "arn:aws:cognito-idp:us-east-1:222222222222:userpool/us-east-1_AbCdEf123"
    external = IdentityConfig(
        name="serverless-app-prod",
        external_user_pool_arn=arn,
        external_token_url="https://auth.example.com/oauth2/token",
    )
    tf = _synth(replace(prod_config, identity=external))
    assert not resources(tf, "aws_cognito_user_pool") and not resources(tf, "aws_cognito_resource_server")
    assert one(tf, "aws_api_gateway_authorizer")["provider_arns"] == [arn]
    assert "https://auth.example.com/oauth2/token" in tf["output"]["identity_settings"]["value"]


def test_prod_without_an_identity_is_refused(prod_config):
    with pytest.raises(ValueError, match=r"identity=None is invalid: allowed an IdentityConfig outside the emulator"):
        replace(prod_config, identity=None)


def test_a_contract_that_needs_tokens_in_an_environment_without_a_pool_is_refused():
    from modules.openapi import ContractError

    # Only the emulator's config may go without a pool; its contract still needs one.
    local = environments.load(DEPLOYED)["local"]
    with pytest.raises(ContractError, match=r"POST /events: the contract requires an access token \(scopes"):
        _synth(replace(local, identity=None))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "Bad Name"}, r"identity.name='Bad Name' is invalid"),
        ({"mfa": "SMS"}, r"identity.mfa='SMS' is invalid: allowed one of 'OFF', 'ON', 'OPTIONAL'"),
        ({"threat_protection": "YES"}, r"identity.threat_protection='YES' is invalid"),
        ({"access_token_validity_minutes": 2}, r"identity.access_token_validity_minutes=2 is invalid: allowed 5..1440"),
        ({"external_user_pool_arn": "arn:aws:cognito-idp:eu-west-1:1:userpool/x"}, r"external_user_pool_arn="),
        ({"external_token_url": "https://x/oauth2/token"}, r"external_token_url='https://x/oauth2/token' is invalid"),
    ],
)
def test_identity_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        IdentityConfig(**{"name": "serverless-app-prod", **values})


def test_only_the_emulator_goes_without_the_resource_server(prod_config):
    with pytest.raises(ValueError, match=r"identity.create_resource_server=False is invalid: allowed True outside"):
        replace(prod_config, identity=replace(prod_config.identity, create_resource_server=False))


# --- the resource policy --------------------------------------------------------------------------------------


def test_the_resource_policy_leaves_the_signed_methods_to_the_callers_identity_policy(prod):
    api = next(iter(resources(prod, "aws_api_gateway_rest_api")))
    arn = ref("aws_api_gateway_rest_api", api, "execution_arn")
    policy = json.loads(one(prod, "aws_api_gateway_rest_api_policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    signed = [
        f"{arn}/*/*/admin/deployment",
        f"{arn}/*/*/internal/events",
        f"{arn}/*/GET/admin/deployment",
        f"{arn}/*/POST/internal/events",
    ]
    # Everyone reaches what a token or the key guards (the authorizer decides); the signed method is left out.
    assert statements["TokenAndKeyMethods"]["Principal"] == "*"
    assert statements["TokenAndKeyMethods"]["NotResource"] == signed
    only_here = statements["SignedMethodsOnlyFromHere"]
    assert only_here["Effect"] == "Deny" and only_here["Resource"] == signed
    assert set(only_here["Condition"]["StringNotEquals"]) == {"aws:PrincipalAccount"}
    # A new resource policy takes effect only with a new deployment: it is part of the trigger.
    trigger = one(prod, "aws_api_gateway_deployment")["triggers"]["redeployment"]
    assert "aws_api_gateway_rest_api_policy." in trigger


def test_the_organization_and_vpc_endpoints_narrow_the_signed_methods(prod_config):
    api = replace(prod_config.api, iam_principal_org_id="o-a1b2c3d4e5", iam_source_vpce_ids=("vpce-0123456789abcdef0",))
    policy = json.loads(one(_synth(replace(prod_config, api=api)), "aws_api_gateway_rest_api_policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["SignedMethodsFromTheOrganization"]["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}
    }
    assert statements["SignedMethodsOnlyFromHere"]["Condition"]["StringNotEquals"]["aws:PrincipalOrgID"] == (
        "o-a1b2c3d4e5"
    )
    assert statements["SignedMethodsOnlyThroughTheseEndpoints"]["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": ["vpce-0123456789abcdef0"]}
    }


def test_only_the_emulator_goes_without_a_resource_policy(prod_config, local):
    assert not resources(local, "aws_api_gateway_rest_api_policy")
    with pytest.raises(
        ValueError, match=r"api.enable_resource_policy=False is invalid: allowed True outside the emulator"
    ):
        replace(prod_config, api=replace(prod_config.api, enable_resource_policy=False))


# --- CORS -----------------------------------------------------------------------------------------------------


def test_preflights_are_mock_answers_that_echo_only_the_configured_origins(local):
    methods = {n: m for n, m in resources(local, "aws_api_gateway_method").items() if m["http_method"] == "OPTIONS"}
    assert sorted(n.split("_preflight")[0] for n in methods) == ["api_events", "api_health", "api_whoami"]
    for method in methods.values():
        assert method["authorization"] == "NONE" and method["api_key_required"] is False  # a preflight has neither
    mocks = [i for i in resources(local, "aws_api_gateway_integration").values() if i["type"] == "MOCK"]
    assert len(mocks) == 3 and all(i["request_templates"] == {"application/json": '{"statusCode": 204}'} for i in mocks)
    answer = next(
        r for n, r in resources(local, "aws_api_gateway_integration_response").items() if n.startswith("api_events")
    )
    template = answer["response_templates"]["application/json"]
    assert (
        '$origin == "http://localhost:3000"' in template
        and "responseOverride.header.Access-Control-Allow-Origin" in template
    )
    assert "*" not in template
    assert answer["response_parameters"]["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,POST'"
    assert answer["response_parameters"]["method.response.header.Vary"] == "'Origin'"


def test_gateway_errors_and_the_function_carry_the_same_cors_headers(local, prod):
    for response in resources(local, "aws_api_gateway_gateway_response").values():
        assert response["response_parameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == (
            "'http://localhost:3000'"
        )
    function = next(f for f in resources(local, "aws_lambda_function").values())
    assert function["environment"]["variables"]["CORS_ALLOWED_ORIGINS"] == "http://localhost:3000"
    # Off by default: prod answers no browser.
    assert not [m for m in resources(prod, "aws_api_gateway_method").values() if m["http_method"] == "OPTIONS"]
    assert all("response_parameters" not in r for r in resources(prod, "aws_api_gateway_gateway_response").values())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"allowed_origins": ("*",)}, r"api.cors.allowed_origins\[0\]='\*' is invalid: allowed an exact origin"),
        ({"allowed_origins": ("http://app.example.com",)}, r"allowed_origins\[0\]='http://app.example.com'"),
        ({"allowed_origins": ()}, r"allowed_origins=\(\) is invalid: allowed at least one origin"),
        (
            {"allowed_origins": ("https://a.example.com", "https://b.example.com"), "allow_credentials": True},
            r"exactly one origin with allow_credentials",
        ),
        ({"allowed_origins": ("https://a.example.com",), "max_age_seconds": 86400}, r"max_age_seconds=86400"),
    ],
)
def test_cors_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        CorsConfig(**values)


def test_the_function_builds_powertools_cors_from_the_stacks_variables():
    from functions.api.app import cors_config

    config = CorsConfig(allowed_origins=("https://a.example.com", "https://b.example.com"))
    cors = cors_config(config.function_environment())
    assert cors.to_dict("https://b.example.com")["Access-Control-Allow-Origin"] == "https://b.example.com"
    assert cors.to_dict("https://evil.example.com") == {}
    assert cors_config({}) is None


# --- the custom domain ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod_with_domain(prod_config):
    return _synth(
        replace(prod_config, domain=DomainConfig(domain_name="api.example.com", hosted_zone_id="Z0123456789ABC"))
    )


def test_a_custom_domain_with_tls_1_2_its_certificate_mapping_and_alias(prod_with_domain):
    tf = prod_with_domain
    domain = one(tf, "aws_api_gateway_domain_name")
    assert domain["domain_name"] == "api.example.com" and domain["security_policy"] == "TLS_1_2"
    assert domain["endpoint_configuration"] == {"types": ["REGIONAL"]}
    certificate = one(tf, "aws_acm_certificate")
    assert certificate["validation_method"] == "DNS" and certificate["domain_name"] == "api.example.com"
    validation = one(tf, "aws_acm_certificate_validation")
    assert domain["regional_certificate_arn"] == ref(
        "aws_acm_certificate_validation", next(iter(resources(tf, "aws_acm_certificate_validation"))), "certificate_arn"
    )
    records = {r["type"]: r for r in resources(tf, "aws_route53_record").values() if r.get("type") == "A"}
    assert records["A"]["zone_id"] == "Z0123456789ABC" and records["A"]["alias"]["evaluate_target_health"] is True
    assert len(validation["validation_record_fqdns"]) == 1
    mapping = one(tf, "aws_api_gateway_base_path_mapping")
    assert mapping["stage_name"].startswith("${aws_api_gateway_stage.")
    # Nobody reaches the API around its name: the execute-api endpoint is off, and callers are told the domain.
    assert one(tf, "aws_api_gateway_rest_api")["disable_execute_api_endpoint"] is True
    assert tf["output"]["api_url"]["value"] == "https://api.example.com"


def test_without_a_domain_the_execute_api_endpoint_stays(prod):
    assert one(prod, "aws_api_gateway_rest_api")["disable_execute_api_endpoint"] is False
    assert not resources(prod, "aws_api_gateway_domain_name")


def test_an_imported_certificate_is_used_as_it_is(prod_config):
    arn = "arn:aws:acm:us-east-1:222222222222:certificate/01234567-89ab-cdef-0123-456789abcdef"
    tf = _synth(
        replace(
            prod_config,
            domain=DomainConfig(domain_name="api.example.com", hosted_zone_id="Z0123456789ABC", certificate_arn=arn),
        )
    )
    assert not resources(tf, "aws_acm_certificate")
    assert one(tf, "aws_api_gateway_domain_name")["regional_certificate_arn"] == arn


def test_the_published_contract_lists_the_custom_domain(prod_config):
    from stacks.contract import document

    configs = {"prod": replace(prod_config, domain=DomainConfig(domain_name="api.example.com", hosted_zone_id="Z1A"))}
    assert document(configs)["servers"] == [{"url": "https://api.example.com", "description": "prod (custom domain)"}]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"domain_name": "API.example.com"}, r"domain.domain_name='API.example.com' is invalid: allowed a lowercase"),
        ({"domain_name": "example"}, r"domain.domain_name='example' is invalid"),
        ({"hosted_zone_id": None}, r"domain.hosted_zone_id=None is invalid: allowed the id of the name's public"),
        (
            {"certificate_arn": "arn:aws:acm:eu-west-1:222222222222:certificate/01234567-89ab-cdef-0123-456789abcdef"},
            r"allowed a certificate in us-east-1 \(a regional API's certificate must be in its region, not eu-west-1\)",
        ),
        ({"certificate_arn": "arn:aws:iam::1:server-certificate/x"}, r"certificate_arn='arn:aws:iam::1:.*' is invalid"),
    ],
)
def test_domain_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        DomainConfig(**{"domain_name": "api.example.com", "hosted_zone_id": "Z0123456789ABC", **values})


def test_only_the_emulator_may_skip_the_dns_records(prod_config, local):
    assert one(local, "aws_api_gateway_domain_name")["security_policy"] == "TLS_1_2"
    assert not resources(local, "aws_route53_record")
    with pytest.raises(ValueError, match=r"domain.manage_dns=False is invalid: allowed True outside the emulator"):
        replace(prod_config, domain=DomainConfig(domain_name="api.example.com", manage_dns=False))
