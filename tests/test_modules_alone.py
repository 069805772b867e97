"""Every construct in modules/ is reusable on its own: synthesized alone in a bare TerraformStack, with only its
explicit dependencies, and tested the way a team would test its own use of it (cdktf's ``Testing`` matchers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import builders
import cdktf
import pytest
from cdktf import TerraformStack
from stack_helpers import DEPLOYED, PROJECT_DIR, assert_has_data_source, assert_has_resource

from modules.account import AccountContext
from modules.api import Api, ApiConfig
from modules.api_gateway_account import ApiGatewayAccountConfig, ApiGatewayAccountLogging
from modules.autoscaling import AutoscalingConfig, ProvisionedConcurrencyAutoscaling
from modules.deploy_roles import DeployRoles, DeployRolesConfig, DeployTarget
from modules.encryption_key import EncryptionKey, EncryptionKeyConfig
from modules.function_config import FunctionConfig, LambdaCode
from modules.monitoring import Monitoring, MonitoringConfig
from modules.release import ReleaseConfig
from modules.role_boundary import ServiceRoleBoundary
from modules.route_group import RouteGroup, RouteGroupConfig
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from modules.waf import Waf, WafConfig


def _stack() -> tuple[TerraformStack, AccountContext]:
    return builders.bare_stack()


def _code(tmp_path: Path) -> LambdaCode:
    return builders.code(tmp_path)


def _shipping_stack():
    stack, account = builders.bare_stack()
    key, log_shipping = builders.shipping(stack, account)
    return stack, account, key, log_shipping


def _function_stack(tmp_path: Path):
    stack, account = builders.bare_stack()
    key, log_shipping = builders.shipping(stack, account)
    fn = builders.function(stack, account, tmp_path, key=key, log_shipping=log_shipping)
    return stack, account, key, log_shipping, fn


def test_region_locked_provider_and_account_context_alone():
    stack, _ = _stack()
    synthesized = cdktf.Testing.synth(stack)
    assert json.loads(synthesized)["provider"]["aws"][0]["region"] == "us-east-1"
    assert_has_data_source(synthesized, "aws_caller_identity", {})
    assert_has_data_source(synthesized, "aws_partition", {})


def test_encryption_key_alone():
    stack, account = _stack()
    EncryptionKey(
        stack, "key", config=EncryptionKeyConfig(alias="payments", deletion_window_in_days=7), account=account
    )
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(synthesized, "aws_kms_key", {"enable_key_rotation": True, "deletion_window_in_days": 7})
    assert_has_resource(synthesized, "aws_kms_alias", {"name": "alias/payments"})


def test_secure_bucket_alone():
    stack, account = _stack()
    SecureBucket(stack, "exports", config=SecureBucketConfig(name="payments-exports"), account=account)
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(synthesized, "aws_s3_bucket_versioning", {"versioning_configuration": {"status": "Enabled"}})
    assert_has_resource(
        synthesized,
        "aws_s3_bucket_public_access_block",
        {
            "block_public_acls": True,
            "block_public_policy": True,
            "ignore_public_acls": True,
            "restrict_public_buckets": True,
        },
    )
    assert_has_resource(
        synthesized, "aws_s3_bucket_ownership_controls", {"rule": {"object_ownership": "BucketOwnerEnforced"}}
    )


def test_log_archive_and_shipping_alone():
    stack, _, _, shipping = _shipping_stack()
    shipping.log_group(stack, "jobs", name="/payments/jobs", source="jobs")
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(synthesized, "aws_cloudwatch_log_group", {"name": "/payments/jobs", "retention_in_days": 30})
    assert_has_resource(
        synthesized, "aws_kinesis_firehose_delivery_stream", {"name": "payments-jobs", "destination": "extended_s3"}
    )
    assert_has_resource(synthesized, "aws_cloudwatch_log_subscription_filter", {"filter_pattern": ""})


def test_function_and_autoscaling_alone(tmp_path):
    stack, _, _, _, function = _function_stack(tmp_path)
    ProvisionedConcurrencyAutoscaling(
        stack,
        "scaling",
        config=AutoscalingConfig(enable_provisioned_concurrency=True, min_capacity=1, max_capacity=3),
        function=function,
    )
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(
        synthesized,
        "aws_lambda_function",
        {
            "function_name": "payments-api",
            "runtime": "python3.12",
            "architectures": ["arm64"],
            "publish": True,
            "tracing_config": {"mode": "Active"},
        },
    )
    assert_has_resource(synthesized, "aws_lambda_alias", {"name": "live"})
    assert_has_resource(synthesized, "aws_appautoscaling_target", {"min_capacity": 1, "max_capacity": 3})


def test_route_groups_api_waf_and_monitoring_alone(tmp_path):
    stack, account, key, shipping = _shipping_stack()
    config = ApiConfig(name="payments")
    monitoring = Monitoring(
        stack,
        "monitoring",
        config=MonitoringConfig(name="payments", alarm_emails=("oncall@example.com",)),
        key=key,
        account=account,
        api=config,
    )
    groups = {
        name: RouteGroup(
            stack,
            f"group_{name}",
            config=RouteGroupConfig(
                function=FunctionConfig(
                    name=f"payments-{name}", service_name=f"payments-{name}", metrics_namespace=f"payments/{name}"
                ),
                release=ReleaseConfig(strategy="direct"),
            ),
            code=lambda _: _code(tmp_path),
            key=key,
            shipping=shipping,
            account=account,
            monitoring=monitoring,
            release_name=f"payments-{name}",
            alarm_prefix=f"{name}-",
        )
        for name in ("pay", "refund")
    }
    key_only = [{"key": []}]
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    api = Api(
        stack,
        "api",
        config=config,
        functions={name: group.function for name, group in groups.items()},
        routes={"/payments": "pay", "/refunds": "refund"},
        contract={
            "paths": {
                "/payments": {"post": {"security": key_only, "requestBody": body}},
                "/refunds": {"post": {"security": key_only, "requestBody": body}},
            },
            "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
        },
        shipping=shipping,
        account=account,
    )
    Waf(
        stack,
        "waf",
        config=WafConfig(name="payments", rate_limit_per_5_minutes=15_000),
        stage_arn=api.stage.arn,
        shipping=shipping,
        account=account,
    )
    monitoring.watch(shipping=shipping, overview=[g for group in groups.values() for g in group.graphs])
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(synthesized, "aws_api_gateway_rest_api", {"name": "payments"})
    assert_has_resource(synthesized, "aws_api_gateway_resource", {"path_part": "payments"})
    assert_has_resource(synthesized, "aws_api_gateway_method", {"http_method": "POST", "api_key_required": True})
    assert_has_resource(synthesized, "aws_wafv2_web_acl", {"name": "payments", "scope": "REGIONAL"})
    assert_has_resource(
        synthesized, "aws_sns_topic_subscription", {"protocol": "email", "endpoint": "oncall@example.com"}
    )
    for name in ("pay", "refund"):
        alarm = {"alarm_name": f"payments-{name}-lambda-error-rate"}
        assert_has_resource(synthesized, "aws_cloudwatch_metric_alarm", alarm)
    assert_has_resource(synthesized, "aws_cloudwatch_dashboard", {"dashboard_name": "payments"})
    tf = json.loads(synthesized)
    # One invoke permission per group's function, and each path proxies to its own group's alias.
    assert len({p["function_name"] for p in tf["resource"]["aws_lambda_permission"].values()}) == 2
    uris = {k: i["uri"] for k, i in tf["resource"]["aws_api_gateway_integration"].items()}
    for path, group in (("refunds", "refund"), ("payments", "pay")):
        uri = next(u for k, u in uris.items() if k.startswith(f"api_{path}_post"))
        assert uri.startswith(f"${{aws_lambda_alias.group_{group}_function_alias_"), uri


def test_account_level_constructs_alone():
    stack, account = _stack()
    key = EncryptionKey(stack, "key", config=EncryptionKeyConfig(alias="tfstate"), account=account)
    ApiGatewayAccountLogging(
        stack, "apigw", config=ApiGatewayAccountConfig(role_name="apigw-logs"), key=key, account=account
    )
    boundary = ServiceRoleBoundary(stack, "boundary", name_prefix="payments-prod", account=account)
    DeployRoles(
        stack,
        "deploy",
        config=DeployRolesConfig(
            github_repository="acme/payments",
            targets=(
                DeployTarget(environment="prod", name_prefix="payments-prod", state_object_prefix="payments-prod/"),
            ),
        ),
        account=account,
        state_bucket_arn="arn:aws:s3:::state",
        state_key_arn=key.arn,
        boundary_arns={"prod": boundary.arn},
    )
    synthesized = cdktf.Testing.synth(stack)
    assert_has_resource(synthesized, "aws_api_gateway_account", {"reset_on_delete": True})
    assert_has_resource(synthesized, "aws_iam_role", {"name": "payments-prod-apply", "path": "/deploy/"})
    assert_has_resource(synthesized, "aws_iam_openid_connect_provider", {"client_id_list": ["sts.amazonaws.com"]})
    assert_has_resource(synthesized, "aws_iam_policy", {"name": "payments-prod-service-boundary", "path": "/deploy/"})


def test_a_failing_matcher_names_the_candidates():
    stack, account = _stack()
    EncryptionKey(stack, "key", config=EncryptionKeyConfig(alias="payments"), account=account)
    with pytest.raises(
        AssertionError, match=r"(?s)no aws_kms_alias has .*alias/other.*the 1 candidates:\n.*alias/payments"
    ):
        assert_has_resource(cdktf.Testing.synth(stack), "aws_kms_alias", {"name": "alias/other"})


@pytest.mark.terraform
@pytest.mark.slow
def test_the_prod_stack_built_with_testing_is_valid_terraform():
    # cdktf's own matcher on the fullest stack; every stack of the app is validated the way `make validate` does
    # it in tests/test_terraform.py (each validation starts the AWS provider twice: seconds of CPU per stack).
    from stacks import environments
    from stacks.service import ServiceStack

    config = environments.load(DEPLOYED)["prod"]
    stack = ServiceStack(cdktf.Testing.app(), config.stack_name, config=config)
    outdir = Path(cdktf.Testing.full_synth(stack))
    # `terraform init` would reach the S3 backend; validity does not depend on it.
    for path in outdir.rglob("cdk.tf.json"):
        tf = json.loads(path.read_text())
        tf["terraform"].pop("backend", None)
        path.write_text(json.dumps(tf))
    assert cdktf.Testing.to_be_valid_terraform(str(outdir))


def _readme_example() -> str:
    readme = (PROJECT_DIR / "README.md").read_text()
    return re.search(r"<!-- module-example -->\n```python\n(.*?)```", readme, re.S).group(1)


def test_the_readme_example_runs_and_makes_what_it_says(tmp_path):
    code = _readme_example()
    assert 8 <= len([line for line in code.splitlines() if line.strip()]) <= 16
    # The example writes to cdktf.out like any app; here it writes to a temporary folder instead.
    assert code.count("App()") == 1
    code = code.replace("App()", f"App(outdir={str(tmp_path / 'out')!r})")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    tf = json.loads((tmp_path / "out" / "stacks" / "reports" / "cdk.tf.json").read_text())
    buckets = [b["bucket"] for b in tf["resource"]["aws_s3_bucket"].values()]
    assert any(b.startswith("reports-exports-") for b in buckets)
    assert tf["resource"]["aws_kms_key"]
