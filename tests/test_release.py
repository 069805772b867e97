"""Releases: CodeDeploy owns prod's and dev's alias (canary / linear, alarm rollback, pre-traffic hook in prod);
Terraform stops comparing what CodeDeploy changes; local moves the alias directly (no CodeDeploy on the emulator)."""

from __future__ import annotations

import json

import cdktf
import pytest
from stack_helpers import DEPLOYED, resources

from modules.release import ReleaseConfig

GATING = ("release-error-rate", "release-duration-p99", "api-5xx-rate")


def _deployment_group(stack: dict, name: str) -> dict:
    (group,) = [
        g for g in resources(stack, "aws_codedeploy_deployment_group").values() if g["deployment_group_name"] == name
    ]
    return group


def _release_policy(stack: dict, role_name: str) -> dict:
    """The CodeDeploy service role's policy of one route group's release, found through its role."""
    (key,) = [k for k, r in resources(stack, "aws_iam_role").items() if r["name"] == role_name]
    (policy,) = [
        p for p in resources(stack, "aws_iam_role_policy").values() if p["role"] == f"${{aws_iam_role.{key}.id}}"
    ]
    return policy


def _alarm_names(stack, references):
    alarms = resources(stack, "aws_cloudwatch_metric_alarm")
    return {alarms[ref.split(".")[1]]["alarm_name"] for ref in references}


def test_prod_releases_by_canary_gated_by_the_alarm_specs_marked_so(prod):
    from stacks import environments
    from stacks.service import ServiceStack

    stack = ServiceStack(cdktf.Testing.app(), "serverless-app-prod", config=environments.load(DEPLOYED)["prod"])
    marked = {spec.key for spec in stack.monitoring.specs if spec.gates_release}
    # The list is data on the alarm specs, not a second list: each route group's gates and the API's.
    assert marked == {*GATING, "admin-release-error-rate", "admin-release-duration-p99"}
    apps = {a["name"]: a for a in resources(prod, "aws_codedeploy_app").values()}
    assert set(apps) == {"serverless-app-prod", "serverless-app-prod-admin"}
    assert {a["compute_platform"] for a in apps.values()} == {"Lambda"}
    group = _deployment_group(prod, "serverless-app-prod-live")
    assert group["deployment_config_name"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert group["deployment_style"] == {"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}
    assert group["auto_rollback_configuration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert group["alarm_configuration"]["enabled"] is True
    assert _alarm_names(prod, group["alarm_configuration"]["alarms"]) == {f"serverless-app-prod-{k}" for k in GATING}


def test_codedeploy_owns_the_alias_where_it_releases_and_terraform_stops_comparing(prod, dev, local):
    for stack in (prod, dev):
        aliases = [
            a
            for a in resources(stack, "aws_lambda_alias").values()
            if a["name"] == "live" and "release_hook" not in a["function_name"]
        ]
        assert len(aliases) == 2  # every route group's
        for alias in aliases:
            assert alias["lifecycle"]["ignore_changes"] == ["function_version", "routing_config"]
    for alias in resources(local, "aws_lambda_alias").values():
        assert "lifecycle" not in alias  # strategy direct: each apply moves it
    assert not resources(local, "aws_codedeploy_app") and not resources(local, "aws_codedeploy_deployment_group")


def test_dev_uses_a_custom_linear_configuration(dev):
    configs = resources(dev, "aws_codedeploy_deployment_config")
    by_name = {c["deployment_config_name"]: k for k, c in configs.items()}
    assert set(by_name) == {"serverless-app-dev-linear-25pct-1min", "serverless-app-dev-admin-linear-25pct-1min"}
    for name, group_name in (
        ("serverless-app-dev-linear-25pct-1min", "serverless-app-dev-live"),
        ("serverless-app-dev-admin-linear-25pct-1min", "serverless-app-dev-admin-live"),
    ):
        config = configs[by_name[name]]
        assert config["traffic_routing_config"] == {
            "type": "TimeBasedLinear",
            "time_based_linear": {"interval": 1, "percentage": 25},
        }
        reference = f"${{aws_codedeploy_deployment_config.{by_name[name]}.deployment_config_name}}"
        assert _deployment_group(dev, group_name)["deployment_config_name"] == reference


def test_the_service_role_can_shift_only_this_alias_read_only_these_alarms_and_run_only_the_hook(prod):
    role = next(r for r in resources(prod, "aws_iam_role").values() if r["name"] == "serverless-app-prod-codedeploy")
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "codedeploy.amazonaws.com"
    }
    policy = _release_policy(prod, "serverless-app-prod-codedeploy")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    assert set(statements) == {
        "ShiftTheAlias",
        "ReadProvisionedConcurrency",
        "ReadTheGatingAlarms",
        "RunThePreTrafficHook",
    }
    assert statements["ShiftTheAlias"]["Resource"].endswith(":function:serverless-app-prod-api")
    # The alias and the versions CodeDeploy shifts between.
    assert statements["ReadProvisionedConcurrency"]["Resource"].endswith(":function:serverless-app-prod-api:*")
    assert len(statements["ReadTheGatingAlarms"]["Resource"]) == len(GATING)
    assert all("release-hook" in r for r in statements["RunThePreTrafficHook"]["Resource"])
    # The admin group's release shifts its own alias only, and runs no hook.
    admin = {
        s["Sid"]: s
        for s in json.loads(_release_policy(prod, "serverless-app-prod-admin-codedeploy")["policy"])["Statement"]
    }
    assert set(admin) == {"ShiftTheAlias", "ReadProvisionedConcurrency", "ReadTheGatingAlarms"}
    assert admin["ShiftTheAlias"]["Resource"].endswith(":function:serverless-app-prod-admin")


def test_the_pre_traffic_hook_is_a_shipped_alarmed_function_in_prod_only(prod, dev, local):
    names = {f["function_name"] for f in resources(prod, "aws_lambda_function").values()}
    assert names == {"serverless-app-prod-api", "serverless-app-prod-admin", "serverless-app-prod-release-hook"}
    assert "/aws/lambda/serverless-app-prod-release-hook" in {
        g["name"] for g in resources(prod, "aws_cloudwatch_log_group").values()
    }
    assert "serverless-app-prod-function-errors-serverless-app-prod-release-hook" in {
        a["alarm_name"] for a in resources(prod, "aws_cloudwatch_metric_alarm").values()
    }
    for stack in (dev, local):
        assert not [f for f in resources(stack, "aws_lambda_function").values() if "release-hook" in f["function_name"]]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"strategy": "blue"},
            r"release.strategy='blue' is invalid: allowed one of 'all_at_once', 'canary', 'direct', 'linear'",
        ),
        (
            {"strategy": "canary", "percent": 100, "interval_minutes": 5},
            r"release.percent=100 is invalid: allowed 1..99",
        ),
        (
            {"strategy": "linear", "percent": 10, "interval_minutes": 0},
            r"release.interval_minutes=0 is invalid: allowed 1..120",
        ),
        (
            {"strategy": "direct", "pre_traffic_hook": True},
            r"release.pre_traffic_hook=True is invalid: allowed False with strategy 'direct'",
        ),
        (
            {"strategy": "all_at_once", "percent": 50},
            r"release.percent=50 is invalid: allowed 100 with strategy 'all_at_once'",
        ),
    ],
)
def test_release_config_errors_name_the_field_and_the_allowed_values(values, message):
    with pytest.raises(ValueError, match=message):
        ReleaseConfig(**values)
