"""The ProvisionedConcurrencyAutoscaling construct alone: the alias as a target, target tracking, the schedule, and
what its config refuses."""

from __future__ import annotations

import builders
import pytest

from modules.autoscaling import AutoscalingConfig, ProvisionedConcurrencyAutoscaling, ScheduledCapacity

BUSINESS_HOURS = (
    ScheduledCapacity(name="weekday-open", schedule="cron(0 12 ? * MON-FRI *)", min_capacity=5, max_capacity=50),
    ScheduledCapacity(name="weekday-close", schedule="cron(0 22 ? * MON-FRI *)", min_capacity=1, max_capacity=10),
)


def _synth(tmp_path, **changes) -> dict:
    def build(stack, account):
        key, log_shipping = builders.shipping(stack, account)
        function = builders.function(stack, account, tmp_path, key=key, log_shipping=log_shipping)
        config = {"enable_provisioned_concurrency": True, "min_capacity": 2, "max_capacity": 8, **changes}
        ProvisionedConcurrencyAutoscaling(stack, "scaling", config=AutoscalingConfig(**config), function=function)

    return builders.synth_scope(build)


def test_the_alias_is_the_target_with_the_configured_range_and_scaling_resumed(tmp_path):
    tf = _synth(tmp_path)
    (target,) = builders.of(tf, "aws_appautoscaling_target")
    assert target["service_namespace"] == "lambda"
    assert target["scalable_dimension"] == "lambda:function:ProvisionedConcurrency"
    (alias_name,) = tf["resource"]["aws_lambda_alias"]
    (function_name,) = tf["resource"]["aws_lambda_function"]
    assert target["resource_id"] == (
        f"function:${{aws_lambda_function.{function_name}.function_name}}:${{aws_lambda_alias.{alias_name}.name}}"
    )
    assert (target["min_capacity"], target["max_capacity"]) == (2, 8)
    # A suspension left behind by an interrupted release is drift, and the next apply resumes scaling.
    assert target["suspended_state"] == {
        "dynamic_scaling_in_suspended": False,
        "dynamic_scaling_out_suspended": False,
        "scheduled_scaling_suspended": False,
    }
    assert target["depends_on"] == [f"aws_lambda_alias.{alias_name}"]
    # Without a schedule nothing else moves the range, so Terraform owns it.
    assert "lifecycle" not in target
    assert not builders.of(tf, "aws_appautoscaling_scheduled_action")


def test_target_tracking_on_provisioned_utilization_with_the_configured_cooldowns(tmp_path):
    tf = _synth(tmp_path, target_utilization=0.6, scale_in_cooldown_seconds=120, scale_out_cooldown_seconds=10)
    (policy,) = builders.of(tf, "aws_appautoscaling_policy")
    assert policy["name"] == "payments-api-provisioned-utilization"
    assert policy["policy_type"] == "TargetTrackingScaling"
    (target_name,) = tf["resource"]["aws_appautoscaling_target"]
    assert policy["resource_id"] == f"${{aws_appautoscaling_target.{target_name}.resource_id}}"
    assert policy["target_tracking_scaling_policy_configuration"] == {
        "target_value": 0.6,
        "scale_in_cooldown": 120,
        "scale_out_cooldown": 10,
        "predefined_metric_specification": {"predefined_metric_type": "LambdaProvisionedConcurrencyUtilization"},
    }


def test_a_schedule_moves_the_range_and_terraform_then_leaves_the_range_alone(tmp_path):
    tf = _synth(tmp_path, scheduled=BUSINESS_HOURS)
    actions = {a["name"]: a for a in builders.of(tf, "aws_appautoscaling_scheduled_action")}
    assert set(actions) == {"payments-api-weekday-open", "payments-api-weekday-close"}
    assert actions["payments-api-weekday-open"]["schedule"] == "cron(0 12 ? * MON-FRI *)"
    assert actions["payments-api-weekday-open"]["scalable_target_action"] == {"min_capacity": "5", "max_capacity": "50"}
    assert actions["payments-api-weekday-close"]["scalable_target_action"] == {
        "min_capacity": "1",
        "max_capacity": "10",
    }
    (target,) = builders.of(tf, "aws_appautoscaling_target")
    assert target["lifecycle"] == {"ignore_changes": ["min_capacity", "max_capacity"]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"min_capacity": 5, "max_capacity": 4},
            r"autoscaling.max_capacity=4 is invalid: allowed >= min_capacity \(5\)",
        ),
        ({"min_capacity": 0}, r"autoscaling.min_capacity=0 is invalid: allowed 1..1000 executions"),
        ({"max_capacity": 1001}, r"autoscaling.max_capacity=1001 is invalid: allowed 1..1000 executions"),
        ({"target_utilization": 0.95}, r"autoscaling.target_utilization=0.95 is invalid: allowed 0.1..0.9"),
        ({"scale_in_cooldown_seconds": -1}, r"autoscaling.scale_in_cooldown_seconds=-1 is invalid: allowed 0..3600"),
        ({"enable_provisioned_concurrency": "yes"}, r"autoscaling.enable_provisioned_concurrency='yes' is invalid"),
        ({"scheduled": [BUSINESS_HOURS[0]]}, r"autoscaling.scheduled=\[.*\] is invalid: allowed a value of type tuple"),
        ({"scheduled": ("weekday-open",)}, r"autoscaling.scheduled\[0\]='weekday-open' is invalid: allowed a value"),
        (
            {"scheduled": (BUSINESS_HOURS[0], BUSINESS_HOURS[0])},
            r"autoscaling.scheduled=\['weekday-open', 'weekday-open'\] is invalid: allowed entries with distinct names",
        ),
    ],
)
def test_a_bad_config_names_the_field_and_the_allowed_values(changes, message):
    with pytest.raises(ValueError, match=message):
        AutoscalingConfig(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "open hours"}, r"autoscaling.scheduled.name='open hours' is invalid: allowed 1-64 of"),
        ({"schedule": "0 12 * * *"}, r"autoscaling.scheduled.schedule='0 12 \* \* \*' is invalid: allowed 'cron\("),
        ({"min_capacity": 6, "max_capacity": 5}, r"autoscaling.scheduled.max_capacity=5 is invalid: allowed 6..1000"),
    ],
)
def test_a_bad_scheduled_capacity_names_its_field(changes, message):
    values = {"name": "open", "schedule": "cron(0 12 ? * MON-FRI *)", "min_capacity": 1, "max_capacity": 5, **changes}
    with pytest.raises(ValueError, match=message):
        ScheduledCapacity(**values)
