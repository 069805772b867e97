"""Alarms that matter, an encrypted alert topic, and one dashboard drawn from the same alarm definitions.

Every alarm is an :class:`AlarmSpec`: its metrics (only names AWS publishes, with the dimensions AWS uses),
an optional metric-math expression, a threshold from config, what it means and where its runbook entry is.
The dashboard graphs each spec with its threshold, so the picture and the paging rules cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import Precondition, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.account import AccountContext
from modules.api import Api
from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.function import ALIAS_NAME, Function
from modules.iam import document
from modules.log_shipping import LogShipping
from modules.validation import Checks

APP_ERROR_METRIC = "ApplicationErrorLogs"
# What functions/api/handler.py emits as EMF (tests/functions check the handler really emits these).
EMF_METRICS = ("EventsAccepted", "RejectedEvents", "ApplicationErrors")
RUNBOOK = "docs/RUNBOOK.md"


@dataclass(frozen=True)
class MonitoringConfig:
    """Alarm thresholds and alert targets. Rates are percent; durations are milliseconds or seconds as named."""

    name: str
    """Prefix of alarm names, the topic (``<name>-alarms``) and the dashboard (1-200 of A-Z, a-z, 0-9, '-', '_')."""
    alarm_emails: tuple[str, ...] = ()
    """E-mail addresses subscribed to the alarm topic (default none; ``ALARM_EMAILS_<ENV>``, comma-separated)."""
    alarm_https_endpoints: tuple[str, ...] = ()
    """HTTPS endpoints subscribed to the alarm topic (default none; ``ALARM_HTTPS_ENDPOINTS_<ENV>``)."""
    require_subscriber: bool = False
    """Refuse to plan while nobody is subscribed (default off; on in prod): an alarm nobody receives is not an
    alarm. Synth still succeeds, so tests and other environments need no subscriber."""
    lambda_error_rate_percent: float = 1.0
    """Alarm when more than this share of invocations of the alias fail (0.01..100 %; default 1)."""
    lambda_throttles: int = 1
    """Alarm at this many throttled invocations per period (default 1: any)."""
    duration_p99_fraction_of_timeout: float = 0.8
    """Alarm when p99 duration exceeds this fraction of the timeout (0.1..1.0; default 0.8)."""
    concurrency_fraction_of_reserved: float = 0.8
    """Alarm when concurrency reaches this fraction of the reservation (0.1..1.0; default 0.8)."""
    api_5xx_rate_percent: float = 1.0
    """Alarm when more than this share of API requests answer 5XX (0.01..100 %; default 1)."""
    api_4xx_rate_percent: float = 10.0
    """Alarm when more than this share of API requests answer 4XX (0.01..100 %; default 10)."""
    api_latency_p99_ms: float = 2000.0
    """Alarm when the API's p99 latency exceeds this (1..29,000 ms; default 2,000), at most the function timeout."""
    log_delivery_freshness_seconds: int = 900
    """Alarm when log records wait in Firehose longer than this (60..86,400 s; default 900)."""
    log_delivery_success_ratio: float = 0.99
    """Alarm when the share of successful deliveries to the archive falls below this (0.5..1.0; default 0.99)."""
    application_errors: int = 1
    """Alarm at this many ERROR log records per period (default 1: any)."""
    period_seconds: int = 60
    """Length of one evaluation period: 10, 30 or a multiple of 60 s (default 60)."""
    evaluation_periods: int = 5
    """Periods each alarm looks at (1..100; default 5)."""
    datapoints_to_alarm: int = 3
    """Breaching periods among them that fire the alarm (1..evaluation_periods; default 3)."""
    release_gate_evaluation_periods: int = 2
    """Periods a release gate (the new version's error rate and p99 duration) looks at (1..evaluation_periods;
    default 2): short enough to fire, and roll back, inside a canary's interval rather than after the shift."""
    release_gate_datapoints_to_alarm: int = 1
    """Breaching periods among them that stop a release (1..release_gate_evaluation_periods; default 1)."""
    provisioned_spillover_percent: float = 5.0
    """Alarm when more than this share of the alias's invocations spill over its provisioned concurrency
    (0.01..100 %; default 5). A release moves provisioned concurrency with the alias's weights, so a shift spills a
    little while the new version's share is allocated; a threshold of zero would page on every release."""

    def __post_init__(self) -> None:
        checks = Checks("monitoring")
        checks.pattern("name", self.name, r"[A-Za-z0-9_-]{1,200}", "1-200 of A-Z, a-z, 0-9, '-', '_'")
        checks.each(
            "alarm_emails",
            self.alarm_emails,
            lambda f, v: checks.pattern(f, v, r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address"),
        )
        checks.type("require_subscriber", self.require_subscriber, bool)
        checks.each(
            "alarm_https_endpoints",
            self.alarm_https_endpoints,
            lambda f, v: checks.pattern(f, v, r"https://\S+", "an https:// URL"),
        )
        checks.range("lambda_error_rate_percent", self.lambda_error_rate_percent, 0.01, 100, "%")
        checks.int_range("lambda_throttles", self.lambda_throttles, 1, 1_000_000)
        checks.range("duration_p99_fraction_of_timeout", self.duration_p99_fraction_of_timeout, 0.1, 1.0)
        checks.range("concurrency_fraction_of_reserved", self.concurrency_fraction_of_reserved, 0.1, 1.0)
        checks.range("api_5xx_rate_percent", self.api_5xx_rate_percent, 0.01, 100, "%")
        checks.range("api_4xx_rate_percent", self.api_4xx_rate_percent, 0.01, 100, "%")
        checks.range("api_latency_p99_ms", self.api_latency_p99_ms, 1, 29_000, "ms")
        checks.int_range("log_delivery_freshness_seconds", self.log_delivery_freshness_seconds, 60, 86_400, "seconds")
        checks.range("log_delivery_success_ratio", self.log_delivery_success_ratio, 0.5, 1.0)
        checks.int_range("application_errors", self.application_errors, 1, 1_000_000)
        if checks.type("period_seconds", self.period_seconds, int):
            checks.that(
                self.period_seconds in (10, 30) or (self.period_seconds >= 60 and not self.period_seconds % 60),
                "period_seconds",
                self.period_seconds,
                "10, 30 or a multiple of 60",
            )
        if checks.int_range("evaluation_periods", self.evaluation_periods, 1, 100, "periods"):
            checks.int_range(
                "datapoints_to_alarm",
                self.datapoints_to_alarm,
                1,
                self.evaluation_periods,
                "datapoints (at most evaluation_periods)",
            )
            if checks.int_range(
                "release_gate_evaluation_periods",
                self.release_gate_evaluation_periods,
                1,
                self.evaluation_periods,
                "periods (at most evaluation_periods)",
            ):
                checks.int_range(
                    "release_gate_datapoints_to_alarm",
                    self.release_gate_datapoints_to_alarm,
                    1,
                    self.release_gate_evaluation_periods,
                    "datapoints (at most release_gate_evaluation_periods)",
                )
        checks.range("provisioned_spillover_percent", self.provisioned_spillover_percent, 0.01, 100, "%")
        checks.done()

    @property
    def release_gate_seconds(self) -> int:
        """How long a release gate looks back: the longest a bad version runs before the gate can stop it."""
        return self.period_seconds * self.release_gate_evaluation_periods


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric as AWS publishes it."""

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm; ``expression`` (metric math over ``metrics`` ids) or else the single metric is evaluated."""

    key: str
    title: str
    meaning: str
    metrics: Mapping[str, Metric]
    threshold: float
    comparison: str
    treat_missing_data: str
    expression: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    gates_release: bool = False
    """CodeDeploy stops a release, and rolls it back, while this alarm is in ALARM."""
    evaluation_periods: int | None = None
    """Periods this alarm looks at (default: the config's evaluation_periods)."""
    datapoints_to_alarm: int | None = None
    """Breaching periods that fire it (default: the config's datapoints_to_alarm)."""


def _percent(
    key: str,
    title: str,
    meaning: str,
    part: Metric,
    total: Metric,
    *,
    threshold: float,
    gates_release: bool = False,
    evaluation_periods: int | None = None,
    datapoints_to_alarm: int | None = None,
) -> AlarmSpec:
    """A rate alarm: 100 * part / total by metric math, because AWS publishes the counts, not the rate."""
    return AlarmSpec(
        key,
        title,
        meaning,
        {"part": part, "total": total},
        threshold,
        "GreaterThanThreshold",
        "notBreaching",
        expression="IF(total > 0, 100 * part / total, 0)",
        gates_release=gates_release,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
    )


def alarm_specs(
    config: MonitoringConfig,
    *,
    function_name: str,
    alias: str,
    timeout_seconds: int,
    reserved_concurrency: int,
    api_name: str,
    stage: str,
    stream_names: tuple[str, ...],
    metrics_namespace: str,
    provisioned_concurrency: bool,
    other_functions: tuple[str, ...] = (),
    released_version: str | None = None,
    dead_letter_queues: tuple[str, ...] = (),
) -> list[AlarmSpec]:
    """The alarms of one stack, as data (also what the dashboard and the runbook tests read).

    ``released_version`` (the version Terraform last published, a token) adds the release gates: the error rate
    and p99 duration of that version alone (Lambda's ``ExecutedVersion`` dimension, as SAM's safe deployments do),
    over a short window. An alias-wide rate would be diluted by the old version's traffic: at a 10 % canary the new
    version would have to fail ten times the threshold before the gate noticed."""
    fn = {"FunctionName": function_name}
    fn_alias = {"FunctionName": function_name, "Resource": f"{function_name}:{alias}"}
    api = {"ApiName": api_name, "Stage": stage}
    specs = [
        _percent(
            "lambda-error-rate",
            "Lambda error rate (%)",
            "More than the allowed share of invocations of the live alias end in an error.",
            Metric("AWS/Lambda", "Errors", fn_alias, "Sum"),
            Metric("AWS/Lambda", "Invocations", fn_alias, "Sum"),
            threshold=config.lambda_error_rate_percent,
        ),
        AlarmSpec(
            "lambda-throttles",
            "Lambda throttles",
            "Invocations were refused because the function reached its reserved concurrency.",
            {"throttles": Metric("AWS/Lambda", "Throttles", fn, "Sum")},
            config.lambda_throttles,
            "GreaterThanOrEqualToThreshold",
            "notBreaching",
        ),
        AlarmSpec(
            "lambda-duration-p99",
            "Lambda duration p99 (ms)",
            f"The slowest 1 % of invocations approach the {timeout_seconds} s timeout.",
            {"duration": Metric("AWS/Lambda", "Duration", fn_alias, "p99")},
            round(config.duration_p99_fraction_of_timeout * timeout_seconds * 1000, 3),
            "GreaterThanThreshold",
            "notBreaching",
        ),
        AlarmSpec(
            "lambda-concurrency",
            "Lambda concurrent executions",
            f"Concurrency is close to the reserved {reserved_concurrency}; the next burst will be throttled.",
            {"concurrency": Metric("AWS/Lambda", "ConcurrentExecutions", fn, "Maximum")},
            max(1, int(config.concurrency_fraction_of_reserved * reserved_concurrency)),
            "GreaterThanOrEqualToThreshold",
            "notBreaching",
        ),
        _percent(
            "api-5xx-rate",
            "API 5XX rate (%)",
            "The API answers with server errors: the function failed or API Gateway could not reach it.",
            Metric("AWS/ApiGateway", "5XXError", api, "Sum"),
            Metric("AWS/ApiGateway", "Count", api, "Sum"),
            threshold=config.api_5xx_rate_percent,
            gates_release=True,
        ),
        _percent(
            "api-4xx-rate",
            "API 4XX rate (%)",
            "Many requests are rejected: a client is broken, keys are wrong, or callers are being throttled.",
            Metric("AWS/ApiGateway", "4XXError", api, "Sum"),
            Metric("AWS/ApiGateway", "Count", api, "Sum"),
            threshold=config.api_4xx_rate_percent,
        ),
        AlarmSpec(
            "api-latency-p99",
            "API latency p99 (ms)",
            "The slowest 1 % of requests take longer than the latency objective.",
            {"latency": Metric("AWS/ApiGateway", "Latency", api, "p99")},
            config.api_latency_p99_ms,
            "GreaterThanThreshold",
            "notBreaching",
        ),
        AlarmSpec(
            "application-errors",
            "Application errors",
            "The function logged records at level ERROR (an unexpected exception or a failed dependency).",
            {"app_errors": Metric(metrics_namespace, APP_ERROR_METRIC, {}, "Sum")},
            config.application_errors,
            "GreaterThanOrEqualToThreshold",
            "notBreaching",
        ),
    ]
    for stream in stream_names:
        specs += [
            AlarmSpec(
                f"log-delivery-freshness-{stream}",
                f"Log delivery age (s): {stream}",
                "Log records wait in Firehose longer than allowed: delivery to the archive bucket is failing.",
                {
                    "freshness": Metric(
                        "AWS/Firehose", "DeliveryToS3.DataFreshness", {"DeliveryStreamName": stream}, "Maximum"
                    )
                },
                config.log_delivery_freshness_seconds,
                "GreaterThanThreshold",
                "notBreaching",
                extra={"runbook": "log-delivery-freshness"},
            ),
            AlarmSpec(
                f"log-delivery-success-{stream}",
                f"Log delivery success ratio: {stream}",
                "Some Firehose deliveries to the archive bucket failed (permissions, key or bucket policy).",
                {"success": Metric("AWS/Firehose", "DeliveryToS3.Success", {"DeliveryStreamName": stream}, "Average")},
                config.log_delivery_success_ratio,
                "LessThanThreshold",
                "notBreaching",
                extra={"runbook": "log-delivery-success"},
            ),
        ]
    specs += [
        AlarmSpec(
            f"function-errors-{name}",
            f"Errors: {name}",
            "A supporting function (e.g. the release smoke test) failed.",
            {"errors": Metric("AWS/Lambda", "Errors", {"FunctionName": name}, "Sum")},
            1,
            "GreaterThanOrEqualToThreshold",
            "notBreaching",
            extra={"runbook": "function-errors"},
        )
        for name in other_functions
    ]
    if released_version is not None:
        new_version = {**fn_alias, "ExecutedVersion": released_version}
        gate = {
            "gates_release": True,
            "evaluation_periods": config.release_gate_evaluation_periods,
            "datapoints_to_alarm": config.release_gate_datapoints_to_alarm,
        }
        specs += [
            _percent(
                "release-error-rate",
                "New version error rate (%)",
                "The version being released fails more than the allowed share of its invocations: CodeDeploy stops "
                "the release and moves the alias back.",
                Metric("AWS/Lambda", "Errors", new_version, "Sum"),
                Metric("AWS/Lambda", "Invocations", new_version, "Sum"),
                threshold=config.lambda_error_rate_percent,
                **gate,
            ),
            AlarmSpec(
                "release-duration-p99",
                "New version duration p99 (ms)",
                f"The version being released is slow: its p99 approaches the {timeout_seconds} s timeout.",
                {"duration": Metric("AWS/Lambda", "Duration", new_version, "p99")},
                round(config.duration_p99_fraction_of_timeout * timeout_seconds * 1000, 3),
                "GreaterThanThreshold",
                "notBreaching",
                **gate,
            ),
        ]
    specs += [
        AlarmSpec(
            f"dead-letters-{queue}",
            f"Dead letters: {queue}",
            "Asynchronous invocations failed every retry and wait in the dead-letter queue.",
            {"visible": Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue}, "Maximum")},
            0,
            "GreaterThanThreshold",
            "notBreaching",
            extra={"runbook": "dead-letters"},
        )
        for queue in dead_letter_queues
    ]
    if provisioned_concurrency:
        specs.append(
            _percent(
                "provisioned-spillover",
                "Provisioned concurrency spillover (%)",
                "More than the allowed share of invocations ran on on-demand instances because provisioned "
                "concurrency was used up (cold starts).",
                Metric("AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", fn_alias, "Sum"),
                Metric("AWS/Lambda", "Invocations", fn_alias, "Sum"),
                threshold=config.provisioned_spillover_percent,
            )
        )
    return specs


class Monitoring(Construct):
    """Alarms on a function, its API and the log shipping, an encrypted topic they notify, and a dashboard."""

    topic: SnsTopic
    """The alarm topic, encrypted with the stack's key."""
    specs: list[AlarmSpec]
    """The alarms as data (what the dashboard and the runbook test read)."""
    alarms: dict[str, CloudwatchMetricAlarm]
    """The alarms by spec key."""
    dashboard: CloudwatchDashboard
    """One graph per alarm with its threshold, overview graphs and the alarm states."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: MonitoringConfig,
        key: EncryptionKey,
        function: Function,
        api: Api,
        shipping: LogShipping,
        account: AccountContext,
        provisioned_concurrency: bool,
        other_functions: tuple[Function, ...] = (),
        release_gates: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        subscribers = (*config.alarm_emails, *config.alarm_https_endpoints)
        # Terraform evaluates a precondition at plan time, whichever tool runs the plan (make plan, CI, cdktf).
        endpoints = TerraformLocal(self, "alarm_subscribers", list(subscribers))
        unsubscribed = Precondition(
            condition=f"${{length({endpoints.fqn}) > 0}}",
            error_message=f"{config.name}: no alarm subscriber. Set ALARM_EMAILS_<ENV> or ALARM_HTTPS_ENDPOINTS_<ENV> "
            "(comma-separated) and synthesize again: every alarm of this environment must reach someone.",
        )
        self.topic = SnsTopic(
            self,
            "topic",
            name=f"{config.name}-alarms",
            kms_master_key_id=key.arn,
            lifecycle=TerraformResourceLifecycle(precondition=[unsubscribed])
            if config.require_subscriber and not subscribers
            else None,
        )
        # CloudWatch publishes to the encrypted topic through SNS, which uses the key on CloudWatch's behalf. AWS
        # documents this statement without conditions (a condition key CloudWatch does not send would silently
        # stop every notification); the topic policy below is where the source is pinned.
        key.grant(
            "CloudWatchAlarmsPublishToTheEncryptedTopic",
            principal={"Service": "cloudwatch.amazonaws.com"},
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        )
        SnsTopicPolicy(
            self,
            "topic_policy",
            arn=self.topic.arn,
            policy=document(
                [
                    {
                        "Sid": "TheseAlarmsOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": account.arn("cloudwatch", f"alarm:{config.name}-*")}
                        },
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "sns:Publish",
                        "Resource": self.topic.arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]
            ),
        )
        for index, email in enumerate(config.alarm_emails):
            SnsTopicSubscription(self, f"email_{index}", topic_arn=self.topic.arn, protocol="email", endpoint=email)
        for index, url in enumerate(config.alarm_https_endpoints):
            SnsTopicSubscription(self, f"https_{index}", topic_arn=self.topic.arn, protocol="https", endpoint=url)
        CloudwatchLogMetricFilter(
            self,
            "application_errors",
            name=f"{function.name}-errors",
            log_group_name=function.log_group.name,
            pattern='{ $.level = "ERROR" }',
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                name=APP_ERROR_METRIC, namespace=function.metrics_namespace, value="1", default_value="0"
            ),
        )
        self.specs = alarm_specs(
            config,
            function_name=function.name,
            alias=function.alias_name,
            timeout_seconds=function.timeout_seconds,
            reserved_concurrency=function.reserved_concurrency,
            api_name=api.name,
            stage=api.stage_name,
            stream_names=tuple(shipping.stream_names.values()),
            metrics_namespace=function.metrics_namespace,
            provisioned_concurrency=provisioned_concurrency,
            other_functions=tuple(f.name for f in other_functions),
            released_version=function.lambda_function.version if release_gates else None,
            dead_letter_queues=tuple(
                f.dead_letter_queue_name for f in (function, *other_functions) if f.dead_letter_queue_name
            ),
        )
        self.alarms = {spec.key: self._alarm(spec) for spec in self.specs}
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=config.name,
            dashboard_body=json.dumps(
                dashboard_body(
                    self.specs,
                    [a.arn for a in self.alarms.values()],
                    function_name=function.name,
                    service_name=function.service_name,
                    metrics_namespace=function.metrics_namespace,
                    provisioned_concurrency=provisioned_concurrency,
                ),
                separators=(",", ":"),
            ),
        )

    @property
    def release_alarms(self) -> list[CloudwatchMetricAlarm]:
        """The alarms that stop and roll back a release (``AlarmSpec.gates_release``)."""
        return [self.alarms[spec.key] for spec in self.specs if spec.gates_release]

    def _alarm_name(self, spec: AlarmSpec) -> str:
        return f"{self._config.name}-{spec.key}"

    def _alarm(self, spec: AlarmSpec) -> CloudwatchMetricAlarm:
        config = self._config
        runbook = spec.extra.get("runbook", spec.key)
        common = {
            "alarm_name": self._alarm_name(spec),
            "alarm_description": f"{spec.meaning} Runbook: {RUNBOOK}#{runbook}",
            "comparison_operator": spec.comparison,
            "threshold": spec.threshold,
            "evaluation_periods": spec.evaluation_periods or config.evaluation_periods,
            "datapoints_to_alarm": spec.datapoints_to_alarm or config.datapoints_to_alarm,
            "treat_missing_data": spec.treat_missing_data,
            "alarm_actions": [self.topic.arn],
            "ok_actions": [self.topic.arn],
        }
        if spec.expression is None:
            ((_, metric),) = spec.metrics.items()
            percentile = metric.stat.startswith("p")
            return CloudwatchMetricAlarm(
                self,
                f"alarm_{spec.key}".replace("-", "_"),
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=dict(metric.dimensions) or None,
                period=config.period_seconds,
                statistic=None if percentile else metric.stat,
                extended_statistic=metric.stat if percentile else None,
                **common,
            )
        queries = [
            CloudwatchMetricAlarmMetricQuery(
                id="result", expression=spec.expression, label=spec.title, return_data=True
            )
        ]
        queries += [
            CloudwatchMetricAlarmMetricQuery(
                id=query_id,
                return_data=False,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=metric.namespace,
                    metric_name=metric.name,
                    dimensions=dict(metric.dimensions) or None,
                    period=config.period_seconds,
                    stat=metric.stat,
                ),
            )
            for query_id, metric in spec.metrics.items()
        ]
        return CloudwatchMetricAlarm(self, f"alarm_{spec.key}".replace("-", "_"), metric_query=queries, **common)


def _widget_metric(query_id: str, metric: Metric, visible: bool) -> list:
    row: list = [metric.namespace, metric.name]
    for name, value in metric.dimensions.items():
        row += [name, value]
    return [*row, {"id": query_id, "stat": metric.stat, "visible": visible}]


def _graph(title: str, metrics: list, *, annotations: list | None = None, width: int = 8) -> dict:
    properties = {
        "title": title,
        "region": REGION,
        "view": "timeSeries",
        "stacked": False,
        "period": 60,
        "metrics": metrics,
    }
    if annotations:
        properties["annotations"] = {"horizontal": annotations}
    return {"type": "metric", "width": width, "height": 6, "properties": properties}


def dashboard_body(
    specs: list[AlarmSpec],
    alarm_arns: list[str],
    *,
    function_name: str,
    service_name: str,
    metrics_namespace: str,
    provisioned_concurrency: bool,
) -> dict:
    """The dashboard: overview graphs, one graph per alarm with its threshold, and the alarm states."""
    fn = {"FunctionName": function_name}
    service = {"service": service_name}  # Powertools' default EMF dimension
    overview = [
        _graph(
            "Lambda invocations, errors, throttles",
            [
                _widget_metric("inv", Metric("AWS/Lambda", "Invocations", fn, "Sum"), True),
                _widget_metric("err", Metric("AWS/Lambda", "Errors", fn, "Sum"), True),
                _widget_metric("thr", Metric("AWS/Lambda", "Throttles", fn, "Sum"), True),
            ],
        ),
        _graph(
            "Application metrics (EMF)",
            [
                _widget_metric(f"m{i}", Metric(metrics_namespace, name, service, "Sum"), True)
                for i, name in enumerate(EMF_METRICS)
            ],
        ),
    ]
    api_specs = [s for s in specs if s.key == "api-latency-p99"]
    if api_specs:
        latency = next(iter(api_specs[0].metrics.values()))
        overview.append(
            _graph(
                "API requests and latency p50/p90/p99",
                [
                    _widget_metric(f"lat_{p}", Metric(latency.namespace, "Latency", latency.dimensions, p), True)
                    for p in ("p50", "p90", "p99")
                ]
                + [_widget_metric("count", Metric(latency.namespace, "Count", latency.dimensions, "Sum"), True)],
            )
        )
    if provisioned_concurrency:
        alias = {"FunctionName": function_name, "Resource": f"{function_name}:{ALIAS_NAME}"}
        overview.append(
            _graph(
                "Provisioned concurrency utilization",
                [
                    _widget_metric(
                        "pcu", Metric("AWS/Lambda", "ProvisionedConcurrencyUtilization", alias, "Maximum"), True
                    )
                ],
            )
        )
    per_alarm = []
    for spec in specs:
        rows = [_widget_metric(qid, metric, spec.expression is None) for qid, metric in spec.metrics.items()]
        if spec.expression:
            rows.append([{"expression": spec.expression, "label": spec.title, "id": "result"}])
        per_alarm.append(_graph(spec.title, rows, annotations=[{"label": "alarm threshold", "value": spec.threshold}]))
    states = {
        "type": "alarm",
        "width": 24,
        "height": 4,
        "properties": {"title": "Alarm states", "alarms": alarm_arns, "sortBy": "stateUpdatedTimestamp"},
    }
    return {"widgets": [states, *overview, *per_alarm]}
