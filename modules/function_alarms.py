"""The alarms of one function, as data: errors, throttles, duration against its timeout, concurrency against its
reservation, provisioned-concurrency spillover, and the release gates of the version being released."""

from __future__ import annotations

from modules.alarms import AlarmSpec, Metric, percent
from modules.function import Function
from modules.monitoring import MonitoringConfig

APP_ERROR_METRIC = "ApplicationErrorLogs"
"""The metric the function's ERROR log lines count into (a metric filter per route group)."""


def function_alarm_specs(
    config: MonitoringConfig,
    function: Function,
    *,
    key_prefix: str = "",
    provisioned_concurrency: bool = False,
    released_version: str | None = None,
    supporting: tuple[Function, ...] = (),
) -> list[AlarmSpec]:
    """The alarms of one function, as data.

    ``released_version`` (the version Terraform last published, a token) adds the release gates: the error rate
    and p99 duration of that version alone (Lambda's ``ExecutedVersion`` dimension, as SAM's safe deployments do),
    over a short window. An alias-wide rate would be diluted by the old version's traffic: at a 10 % canary the new
    version would have to fail ten times the threshold before the gate noticed. ``supporting`` functions (the
    release's smoke test) get an errors alarm."""
    timeout = function.timeout_seconds
    p99_threshold = round(config.duration_p99_fraction_of_timeout * timeout * 1000, 3)

    def key(name: str) -> dict:
        return {"key": f"{key_prefix}{name}", "runbook": name if key_prefix else None}

    def title(text: str) -> str:
        return f"{function.name}: {text}" if key_prefix else text

    specs = [
        percent(
            **key("lambda-error-rate"),
            title=title("Lambda error rate (%)"),
            meaning="More than the allowed share of invocations of the live alias end in an error.",
            part=function.metric("Errors"),
            total=function.metric("Invocations"),
            threshold=config.lambda_error_rate_percent,
        ),
        AlarmSpec(
            **key("lambda-throttles"),
            title=title("Lambda throttles"),
            meaning="Invocations were refused because the function reached its reserved concurrency.",
            metrics={"throttles": function.metric("Throttles", of="function")},
            threshold=config.lambda_throttles,
            comparison="GreaterThanOrEqualToThreshold",
        ),
        AlarmSpec(
            **key("lambda-duration-p99"),
            title=title("Lambda duration p99 (ms)"),
            meaning=f"The slowest 1 % of invocations approach the {timeout} s timeout.",
            metrics={"duration": function.metric("Duration", "p99")},
            threshold=p99_threshold,
            comparison="GreaterThanThreshold",
        ),
        AlarmSpec(
            **key("lambda-concurrency"),
            title=title("Lambda concurrent executions"),
            meaning=f"Concurrency is close to the reserved {function.reserved_concurrency}; the next burst will be "
            "throttled.",
            metrics={"concurrency": function.metric("ConcurrentExecutions", "Maximum", of="function")},
            threshold=max(1, int(config.concurrency_fraction_of_reserved * function.reserved_concurrency)),
            comparison="GreaterThanOrEqualToThreshold",
        ),
        AlarmSpec(
            **key("application-errors"),
            title=title("Application errors"),
            meaning="The function logged records at level ERROR (an unexpected exception or a failed dependency).",
            metrics={"app_errors": application_error_metric(function)},
            threshold=config.application_errors,
            comparison="GreaterThanOrEqualToThreshold",
        ),
    ]
    specs += [
        AlarmSpec(
            key=f"function-errors-{other.name}",
            title=f"Errors: {other.name}",
            meaning="A supporting function (e.g. the release smoke test) failed.",
            metrics={"errors": other.metric("Errors", of="function")},
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            runbook="function-errors",
        )
        for other in supporting
    ]
    if released_version is not None:
        gate = {
            "gates_release": True,
            "evaluation_periods": config.release_gate_evaluation_periods,
            "datapoints_to_alarm": config.release_gate_datapoints_to_alarm,
        }
        specs += [
            percent(
                **key("release-error-rate"),
                title=title("New version error rate (%)"),
                meaning="The version being released fails more than the allowed share of its invocations: "
                "CodeDeploy stops the release and moves the alias back.",
                part=function.metric("Errors", version=released_version),
                total=function.metric("Invocations", version=released_version),
                threshold=config.lambda_error_rate_percent,
                **gate,
            ),
            AlarmSpec(
                **key("release-duration-p99"),
                title=title("New version duration p99 (ms)"),
                meaning=f"The version being released is slow: its p99 approaches the {timeout} s timeout.",
                metrics={"duration": function.metric("Duration", "p99", version=released_version)},
                threshold=p99_threshold,
                comparison="GreaterThanThreshold",
                **gate,
            ),
        ]
    specs += [
        AlarmSpec(
            key=f"dead-letters-{f.dead_letter_queue_name}",
            title=f"Dead letters: {f.dead_letter_queue_name}",
            meaning="Asynchronous invocations failed every retry and wait in the dead-letter queue.",
            metrics={
                "visible": Metric(
                    "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": f.dead_letter_queue_name}, "Maximum"
                )
            },
            threshold=0,
            comparison="GreaterThanThreshold",
            runbook="dead-letters",
        )
        for f in (function, *supporting)
        if f.dead_letter_queue_name
    ]
    if provisioned_concurrency:
        specs.append(
            percent(
                **key("provisioned-spillover"),
                title=title("Provisioned concurrency spillover (%)"),
                meaning="More than the allowed share of invocations ran on on-demand instances because provisioned "
                "concurrency was used up (cold starts).",
                part=function.metric("ProvisionedConcurrencySpilloverInvocations"),
                total=function.metric("Invocations"),
                threshold=config.provisioned_spillover_percent,
            )
        )
    return specs


def application_error_metric(function: Function) -> Metric:
    """The count of the function's ERROR log lines (the metric filter's), in the function's own namespace."""
    return Metric(function.metrics_namespace, APP_ERROR_METRIC, {}, "Sum")
