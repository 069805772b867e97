"""Alarms as data: a :class:`Metric` as AWS publishes it (each construct hands out its own, e.g.
``Function.metric``, ``Api.metric``, ``LogShipping.delivery_metric``), an :class:`AlarmSpec` over one or more of
them, and :func:`create_alarm`, the one place a spec becomes a CloudWatch alarm. The dashboard graphs the same
specs, so the picture and the paging rules cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

RUNBOOK = "docs/RUNBOOK.md"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric as AWS publishes it."""

    namespace: str
    name: str
    dimensions: Mapping[str, str]
    stat: str


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    """One alarm; ``expression`` (metric math over ``metrics`` ids) or else the single metric is evaluated."""

    key: str
    """Unique in its stack: the alarm is named ``<prefix>-<key>``."""
    title: str
    meaning: str
    metrics: Mapping[str, Metric]
    threshold: float
    comparison: str
    treat_missing_data: str = "notBreaching"
    expression: str | None = None
    runbook: str | None = None
    """Anchor of its entry in the runbook (default: ``key``)."""
    gates_release: bool = False
    """CodeDeploy stops a release, and rolls it back, while this alarm is in ALARM."""
    evaluation_periods: int | None = None
    """Periods this alarm looks at (default: the settings' evaluation_periods)."""
    datapoints_to_alarm: int | None = None
    """Breaching periods that fire it (default: the settings' datapoints_to_alarm)."""


def percent(
    *,
    key: str,
    title: str,
    meaning: str,
    part: Metric,
    total: Metric,
    threshold: float,
    **options,
) -> AlarmSpec:
    """A rate alarm: 100 * part / total by metric math, because AWS publishes the counts, not the rate."""
    return AlarmSpec(
        key=key,
        title=title,
        meaning=meaning,
        metrics={"part": part, "total": total},
        threshold=threshold,
        comparison="GreaterThanThreshold",
        expression="IF(total > 0, 100 * part / total, 0)",
        **options,
    )


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """What every alarm of a stack shares: its name prefix, where it notifies, and how it evaluates."""

    name_prefix: str
    topic_arn: str
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int


def create_alarm(scope: Construct, spec: AlarmSpec, settings: AlarmSettings) -> CloudwatchMetricAlarm:
    """The CloudWatch alarm of ``spec`` (construct id ``alarm_<key>``), notifying the topic on ALARM and OK."""
    common = {
        "alarm_name": f"{settings.name_prefix}-{spec.key}",
        "alarm_description": f"{spec.meaning} Runbook: {RUNBOOK}#{spec.runbook or spec.key}",
        "comparison_operator": spec.comparison,
        "threshold": spec.threshold,
        "evaluation_periods": spec.evaluation_periods or settings.evaluation_periods,
        "datapoints_to_alarm": spec.datapoints_to_alarm or settings.datapoints_to_alarm,
        "treat_missing_data": spec.treat_missing_data,
        "alarm_actions": [settings.topic_arn],
        "ok_actions": [settings.topic_arn],
    }
    construct_id = f"alarm_{spec.key}".replace("-", "_")
    if spec.expression is None:
        ((_, metric),) = spec.metrics.items()
        percentile = metric.stat.startswith("p")
        return CloudwatchMetricAlarm(
            scope,
            construct_id,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=dict(metric.dimensions) or None,
            period=settings.period_seconds,
            statistic=None if percentile else metric.stat,
            extended_statistic=metric.stat if percentile else None,
            **common,
        )
    queries = [
        CloudwatchMetricAlarmMetricQuery(id="result", expression=spec.expression, label=spec.title, return_data=True)
    ]
    queries += [
        CloudwatchMetricAlarmMetricQuery(
            id=query_id,
            return_data=False,
            metric=CloudwatchMetricAlarmMetricQueryMetric(
                namespace=metric.namespace,
                metric_name=metric.name,
                dimensions=dict(metric.dimensions) or None,
                period=settings.period_seconds,
                stat=metric.stat,
            ),
        )
        for query_id, metric in spec.metrics.items()
    ]
    return CloudwatchMetricAlarm(scope, construct_id, metric_query=queries, **common)
