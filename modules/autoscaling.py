"""Provisioned concurrency on the function's alias, scaled by Application Auto Scaling on utilization."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_scheduled_action import (
    AppautoscalingScheduledAction,
    AppautoscalingScheduledActionScalableTargetAction,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget, AppautoscalingTargetSuspendedState
from constructs import Construct

from modules.function import Function
from modules.validation import Checks


@dataclass(frozen=True)
class ScheduledCapacity:
    """A recurring change of the provisioned-concurrency range, e.g. for business hours."""

    name: str
    """Name of the scheduled action (1-64 of A-Z, a-z, 0-9, '-', '_')."""
    schedule: str
    """``cron(...)``, ``rate(...)`` or ``at(...)``, in UTC."""
    min_capacity: int
    """Lowest provisioned concurrency from then on (0..1000)."""
    max_capacity: int
    """Highest provisioned concurrency from then on (min_capacity..1000)."""

    def __post_init__(self) -> None:
        checks = Checks("autoscaling.scheduled")
        checks.pattern("name", self.name, r"[A-Za-z0-9_-]{1,64}", "1-64 of A-Z, a-z, 0-9, '-', '_'")
        checks.pattern("schedule", self.schedule, r"(cron|rate|at)\(.+\)", "'cron(...)', 'rate(...)' or 'at(...)'")
        if checks.int_range("min_capacity", self.min_capacity, 0, 1000):
            checks.int_range("max_capacity", self.max_capacity, self.min_capacity, 1000)
        checks.done()


@dataclass(frozen=True)
class AutoscalingConfig:
    """Provisioned concurrency on the function's alias, tracked by Application Auto Scaling."""

    enable_provisioned_concurrency: bool = False
    """Keep warm instances on the ``live`` alias (default off: they bill by the hour)."""
    min_capacity: int = 1
    """Lowest provisioned concurrency (1..1000 executions; default 1)."""
    max_capacity: int = 10
    """Highest provisioned concurrency (min_capacity..1000; default 10); at most the function's reservation."""
    target_utilization: float = 0.7
    """Target share of provisioned concurrency in use (0.1..0.9; default 0.7)."""
    scale_in_cooldown_seconds: int = 300
    """Seconds between scale-in steps (0..3600; default 300)."""
    scale_out_cooldown_seconds: int = 0
    """Seconds between scale-out steps (0..3600; default 0: scale out at once)."""
    scheduled: tuple[ScheduledCapacity, ...] = ()
    """Recurring range changes, each with its own name (default none)."""

    def __post_init__(self) -> None:
        checks = Checks("autoscaling")
        checks.type("enable_provisioned_concurrency", self.enable_provisioned_concurrency, bool)
        if checks.int_range("min_capacity", self.min_capacity, 1, 1000, "executions") and checks.int_range(
            "max_capacity", self.max_capacity, 1, 1000, "executions"
        ):
            checks.that(
                self.max_capacity >= self.min_capacity,
                "max_capacity",
                self.max_capacity,
                f">= min_capacity ({self.min_capacity})",
            )
        checks.range("target_utilization", self.target_utilization, 0.1, 0.9)
        checks.int_range("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600, "seconds")
        checks.int_range("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600, "seconds")
        if checks.each("scheduled", self.scheduled, lambda f, v: checks.type(f, v, ScheduledCapacity)):
            names = [item.name for item in self.scheduled]
            checks.that(len(set(names)) == len(names), "scheduled", names, "entries with distinct names")
        checks.done()


class ProvisionedConcurrencyAutoscaling(Construct):
    """Provisioned concurrency on a function's alias, scaled on utilization and on a schedule."""

    target: AppautoscalingTarget
    """The alias's provisioned concurrency as an Application Auto Scaling target."""
    policy: AppautoscalingPolicy
    """Target tracking on ``LambdaProvisionedConcurrencyUtilization``."""
    scheduled: list[AppautoscalingScheduledAction]
    """One scheduled action per ``config.scheduled`` entry."""

    def __init__(self, scope: Construct, id: str, *, config: AutoscalingConfig, function: Function) -> None:
        super().__init__(scope, id)
        resource_id = f"function:{function.lambda_function.function_name}:{function.alias.name}"
        self.target = AppautoscalingTarget(
            self,
            "target",
            service_namespace="lambda",
            scalable_dimension="lambda:function:ProvisionedConcurrency",
            resource_id=resource_id,
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
            # Declared, so a suspension left behind (a `make release` killed mid-shift pauses scaling) shows in
            # `make drift` and the next apply resumes scaling.
            suspended_state=AppautoscalingTargetSuspendedState(
                dynamic_scaling_in_suspended=False,
                dynamic_scaling_out_suspended=False,
                scheduled_scaling_suspended=False,
            ),
            depends_on=[function.alias],
            # The scheduled actions move the range (5..50 on weekdays from 12:00 UTC); without this every plan in
            # that window would want to put it back, `make drift` would report it, and an apply would undo it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["min_capacity", "max_capacity"])
            if config.scheduled
            else None,
        )
        self.policy = AppautoscalingPolicy(
            self,
            "utilization",
            name=f"{function.name}-provisioned-utilization",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=config.target_utilization,
                scale_in_cooldown=config.scale_in_cooldown_seconds,
                scale_out_cooldown=config.scale_out_cooldown_seconds,
                predefined_metric_specification=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type="LambdaProvisionedConcurrencyUtilization"
                    )
                ),
            ),
        )
        self.scheduled = [
            AppautoscalingScheduledAction(
                self,
                f"scheduled_{item.name}",
                name=f"{function.name}-{item.name}",
                schedule=item.schedule,
                service_namespace=self.target.service_namespace,
                scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                scalable_target_action=AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(item.min_capacity), max_capacity=str(item.max_capacity)
                ),
            )
            for item in config.scheduled
        ]
