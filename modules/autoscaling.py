"""Provisioned concurrency on the function's alias, scaled by Application Auto Scaling on utilization."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_scheduled_action import (
    AppautoscalingScheduledAction,
    AppautoscalingScheduledActionScalableTargetAction,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from modules.function import Function
from modules.validation import check_int_range, check_pattern, check_range, check_type, fail


@dataclass(frozen=True)
class ScheduledCapacity:
    """A recurring change of the capacity range, e.g. business hours: ``schedule`` is ``cron(...)`` in UTC."""

    name: str
    schedule: str
    min_capacity: int
    max_capacity: int

    def __post_init__(self) -> None:
        check_pattern("autoscaling.scheduled.name", self.name, r"[A-Za-z0-9_-]{1,64}",
                      "1-64 of A-Z, a-z, 0-9, '-', '_'")
        check_pattern("autoscaling.scheduled.schedule", self.schedule, r"(cron|rate|at)\(.+\)",
                      "'cron(...)', 'rate(...)' or 'at(...)'")
        check_int_range("autoscaling.scheduled.min_capacity", self.min_capacity, 0, 1000)
        check_int_range("autoscaling.scheduled.max_capacity", self.max_capacity, self.min_capacity, 1000)


@dataclass(frozen=True)
class AutoscalingConfig:
    """``enable_provisioned_concurrency`` (default False); when on, provisioned concurrency on the alias tracks
    ``target_utilization`` (default 0.7, 0.1..0.9) between ``min_capacity`` (default 1) and ``max_capacity``
    (default 10), plus optional ``scheduled`` ranges."""

    enable_provisioned_concurrency: bool = False
    min_capacity: int = 1
    max_capacity: int = 10
    target_utilization: float = 0.7
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 0
    scheduled: tuple[ScheduledCapacity, ...] = ()

    def __post_init__(self) -> None:
        check_type("autoscaling.enable_provisioned_concurrency", self.enable_provisioned_concurrency, bool)
        check_int_range("autoscaling.min_capacity", self.min_capacity, 1, 1000, "executions")
        check_int_range("autoscaling.max_capacity", self.max_capacity, 1, 1000, "executions")
        if self.max_capacity < self.min_capacity:
            raise fail("autoscaling.max_capacity", self.max_capacity, f">= min_capacity ({self.min_capacity})")
        check_range("autoscaling.target_utilization", self.target_utilization, 0.1, 0.9)
        check_int_range("autoscaling.scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600, "seconds")
        check_int_range("autoscaling.scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600,
                        "seconds")
        check_type("autoscaling.scheduled", self.scheduled, tuple)


class ProvisionedConcurrencyAutoscaling(Construct):
    """Exposes ``target`` (the alias's scalable provisioned concurrency) and ``policy`` (target tracking)."""

    def __init__(self, scope: Construct, id: str, *, config: AutoscalingConfig, function: Function) -> None:
        super().__init__(scope, id)
        resource_id = f"function:{function.function.function_name}:{function.alias.name}"
        self.target = AppautoscalingTarget(
            self, "target", service_namespace="lambda", scalable_dimension="lambda:function:ProvisionedConcurrency",
            resource_id=resource_id, min_capacity=config.min_capacity, max_capacity=config.max_capacity,
            depends_on=[function.alias])
        self.policy = AppautoscalingPolicy(
            self, "utilization", name=f"{function.config.name}-provisioned-utilization",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace, scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=config.target_utilization,
                scale_in_cooldown=config.scale_in_cooldown_seconds,
                scale_out_cooldown=config.scale_out_cooldown_seconds,
                predefined_metric_specification=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type="LambdaProvisionedConcurrencyUtilization"))))
        self.scheduled = [
            AppautoscalingScheduledAction(
                self, f"scheduled_{item.name}", name=f"{function.config.name}-{item.name}", schedule=item.schedule,
                service_namespace=self.target.service_namespace, scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                scalable_target_action=AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(item.min_capacity), max_capacity=str(item.max_capacity)))
            for item in config.scheduled
        ]
