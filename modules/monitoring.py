"""The stack-wide part of monitoring: the encrypted alert topic every alarm notifies, the API's and the log
delivery's alarms, and one dashboard drawn from every alarm definition of the stack.

Every alarm is an :class:`~modules.alarms.AlarmSpec` over metrics the constructs hand out (``Api.metric``,
``LogShipping.delivery_metric``, ``Function.metric``): only names AWS publishes, with the dimensions AWS uses. Each
route group adds its function's alarms itself (``modules/route_group.py``) through :meth:`Monitoring.add`; the
dashboard graphs each spec with its threshold, so the picture and the paging rules cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import Precondition, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.account import AccountContext
from modules.alarms import AlarmSettings, AlarmSpec, Metric, create_alarm, percent
from modules.api_config import ApiConfig, api_metric
from modules.aws_provider import REGION
from modules.encryption_key import EncryptionKey
from modules.iam import document
from modules.log_shipping import LogShipping
from modules.validation import Checks


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


def api_alarm_specs(config: MonitoringConfig, api: ApiConfig) -> list[AlarmSpec]:
    """The API's alarms: its stage's 5XX and 4XX rates and p99 latency (one API per stack, so stack-wide). The 5XX
    rate also gates every route group's release: a new version that breaks the integration shows here first."""

    def metric(name: str, stat: str = "Sum") -> Metric:
        return api_metric(api, name, stat)

    return [
        percent(
            key="api-5xx-rate",
            title="API 5XX rate (%)",
            meaning="The API answers with server errors: the function failed or API Gateway could not reach it.",
            part=metric("5XXError"),
            total=metric("Count"),
            threshold=config.api_5xx_rate_percent,
            gates_release=True,
        ),
        percent(
            key="api-4xx-rate",
            title="API 4XX rate (%)",
            meaning="Many requests are rejected: a client is broken, keys are wrong, or callers are being throttled.",
            part=metric("4XXError"),
            total=metric("Count"),
            threshold=config.api_4xx_rate_percent,
        ),
        AlarmSpec(
            key="api-latency-p99",
            title="API latency p99 (ms)",
            meaning="The slowest 1 % of requests take longer than the latency objective.",
            metrics={"latency": metric("Latency", "p99")},
            threshold=config.api_latency_p99_ms,
            comparison="GreaterThanThreshold",
        ),
    ]


def delivery_alarm_specs(config: MonitoringConfig, shipping: LogShipping) -> list[AlarmSpec]:
    """Two alarms per delivery stream: records waiting too long, and failed deliveries to the archive."""
    specs = []
    for stream in shipping.stream_names.values():
        specs += [
            AlarmSpec(
                key=f"log-delivery-freshness-{stream}",
                title=f"Log delivery age (s): {stream}",
                meaning="Log records wait in Firehose longer than allowed: delivery to the archive bucket is failing.",
                metrics={"freshness": shipping.delivery_metric(stream, "DeliveryToS3.DataFreshness", "Maximum")},
                threshold=config.log_delivery_freshness_seconds,
                comparison="GreaterThanThreshold",
                runbook="log-delivery-freshness",
            ),
            AlarmSpec(
                key=f"log-delivery-success-{stream}",
                title=f"Log delivery success ratio: {stream}",
                meaning="Some Firehose deliveries to the archive bucket failed (permissions, key or bucket policy).",
                metrics={"success": shipping.delivery_metric(stream, "DeliveryToS3.Success", "Average")},
                threshold=config.log_delivery_success_ratio,
                comparison="LessThanThreshold",
                runbook="log-delivery-success",
            ),
        ]
    return specs


class Monitoring(Construct):
    """The alarm topic (encrypted), the API's alarms, and, once every log group exists (:meth:`watch`), the
    delivery alarms and the dashboard. Route groups add their own alarms with :meth:`add`."""

    topic: SnsTopic
    """The alarm topic, encrypted with the stack's key."""
    settings: AlarmSettings
    """What every alarm of the stack shares (name prefix, topic, periods)."""
    specs: list[AlarmSpec]
    """Every alarm of the stack as data (what the dashboard and the runbook test read)."""
    alarms: dict[str, CloudwatchMetricAlarm]
    """Every alarm of the stack by spec key."""
    api_release_alarms: list[CloudwatchMetricAlarm]
    """The API's alarms that stop and roll back any group's release (``AlarmSpec.gates_release``)."""
    dashboard: CloudwatchDashboard | None
    """One graph per alarm with its threshold, overview graphs and the alarm states (set by :meth:`watch`)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: MonitoringConfig,
        key: EncryptionKey,
        account: AccountContext,
        api: ApiConfig,
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
        self.settings = AlarmSettings(
            name_prefix=config.name,
            topic_arn=self.topic.arn,
            period_seconds=config.period_seconds,
            evaluation_periods=config.evaluation_periods,
            datapoints_to_alarm=config.datapoints_to_alarm,
        )
        self.specs, self.alarms, self.dashboard = [], {}, None
        self._api = api
        api_specs = api_alarm_specs(config, api)
        added = self.add(self, api_specs)
        self.api_release_alarms = [added[spec.key] for spec in api_specs if spec.gates_release]

    @property
    def config(self) -> MonitoringConfig:
        return self._config

    def add(self, scope: Construct, specs: Sequence[AlarmSpec]) -> dict[str, CloudwatchMetricAlarm]:
        """Create the alarms of ``specs`` in ``scope`` (the construct that owns them), notifying the topic; they
        join the dashboard and ``alarms``."""
        taken = sorted({spec.key for spec in specs} & set(self.alarms))
        if taken:
            raise ValueError(f"alarm keys {taken}: each key must be unique in the stack")
        added = {spec.key: create_alarm(scope, spec, self.settings) for spec in specs}
        self.specs += specs
        self.alarms.update(added)
        return added

    def watch(self, *, shipping: LogShipping, overview: Sequence[dict] = ()) -> CloudwatchDashboard:
        """Once every module has shipped its log groups: the delivery alarms of every stream, and the dashboard
        (``overview``: the route groups' graphs, see ``RouteGroup.graphs``)."""
        self.add(self, delivery_alarm_specs(self._config, shipping))
        api_graph = graph(
            "API requests and latency p50/p90/p99",
            [widget_metric(f"lat_{p}", api_metric(self._api, "Latency", p), True) for p in ("p50", "p90", "p99")]
            + [widget_metric("count", api_metric(self._api, "Count"), True)],
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=self._config.name,
            dashboard_body=json.dumps(
                dashboard_body(self.specs, [a.arn for a in self.alarms.values()], [*overview, api_graph]),
                separators=(",", ":"),
            ),
        )
        return self.dashboard


def widget_metric(query_id: str, metric: Metric, visible: bool) -> list:
    """One metric row of a dashboard graph."""
    row: list = [metric.namespace, metric.name]
    for name, value in metric.dimensions.items():
        row += [name, value]
    return [*row, {"id": query_id, "stat": metric.stat, "visible": visible}]


def graph(title: str, metrics: list, *, annotations: list | None = None, width: int = 8) -> dict:
    """A time-series graph widget."""
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


def dashboard_body(specs: Sequence[AlarmSpec], alarm_arns: list[str], overview: Sequence[dict]) -> dict:
    """The dashboard: the alarm states, the overview graphs, and one graph per alarm with its threshold."""
    per_alarm = []
    for spec in specs:
        rows = [widget_metric(qid, metric, spec.expression is None) for qid, metric in spec.metrics.items()]
        if spec.expression:
            rows.append([{"expression": spec.expression, "label": spec.title, "id": "result"}])
        per_alarm.append(graph(spec.title, rows, annotations=[{"label": "alarm threshold", "value": spec.threshold}]))
    states = {
        "type": "alarm",
        "width": 24,
        "height": 4,
        "properties": {"title": "Alarm states", "alarms": alarm_arns, "sortBy": "stateUpdatedTimestamp"},
    }
    return {"widgets": [states, *overview, *per_alarm]}
