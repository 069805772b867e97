"""Monitoring: alarms only on metrics AWS publishes, all notifying an encrypted topic; a dashboard from the same
definitions; a runbook entry per alarm; the README's diagram matches the prod stack."""

import json
import re
from pathlib import Path

import pytest
from stack_helpers import DEPLOYED, one, one_of, ref, resources

from modules.function_alarms import APP_ERROR_METRIC
from modules.monitoring import MonitoringConfig
from stacks.environments import ROUTE_GROUPS

PROJECT = Path(__file__).resolve().parent.parent

# Metric names AWS documents for each namespace, with the dimension sets they are published under
# (Lambda: "Monitoring functions" / "Types of metrics"; API Gateway REST: "API Gateway metrics";
# Firehose: "Data delivery metrics"). An alarm on any other name would never leave INSUFFICIENT_DATA.
PUBLISHED = {
    "AWS/Lambda": {
        "names": {
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "ProvisionedConcurrencySpilloverInvocations",
            "ProvisionedConcurrencyUtilization",
            "ProvisionedConcurrentExecutions",
            "ProvisionedConcurrencyInvocations",
            "DeadLetterErrors",
            "DestinationDeliveryFailures",
            "AsyncEventsReceived",
            "AsyncEventAge",
            "AsyncEventsDropped",
            "UnreservedConcurrentExecutions",
            "ClaimedAccountConcurrency",
            "IteratorAge",
        },
        # ExecutedVersion: for invocations through an alias, the version that ran (with FunctionName and Resource).
        "dimensions": [
            set(),
            {"FunctionName"},
            {"FunctionName", "Resource"},
            {"FunctionName", "Resource", "ExecutedVersion"},
        ],
    },
    "AWS/SQS": {
        "names": {
            "ApproximateNumberOfMessagesVisible",
            "ApproximateAgeOfOldestMessage",
            "NumberOfMessagesSent",
            "NumberOfMessagesReceived",
        },
        "dimensions": [{"QueueName"}],
    },
    "AWS/ApiGateway": {
        "names": {"4XXError", "5XXError", "CacheHitCount", "CacheMissCount", "Count", "IntegrationLatency", "Latency"},
        "dimensions": [{"ApiName"}, {"ApiName", "Stage"}, {"ApiName", "Method", "Resource", "Stage"}],
    },
    "AWS/Firehose": {
        "names": {
            "DeliveryToS3.DataFreshness",
            "DeliveryToS3.Success",
            "DeliveryToS3.Records",
            "DeliveryToS3.Bytes",
            "IncomingRecords",
            "IncomingBytes",
            "ThrottledRecords",
        },
        "dimensions": [{"DeliveryStreamName"}],
    },
}


def _alarm_metrics(alarm: dict) -> list[dict]:
    if "metric_query" in alarm:
        return [q["metric"] for q in alarm["metric_query"] if "metric" in q]
    return [
        {
            "namespace": alarm["namespace"],
            "metric_name": alarm["metric_name"],
            "dimensions": alarm.get("dimensions", {}),
        }
    ]


def test_every_alarm_watches_a_metric_aws_publishes_or_the_stack_produces(prod):
    custom_metrics = {
        (f["metric_transformation"]["namespace"], f["metric_transformation"]["name"])
        for f in resources(prod, "aws_cloudwatch_log_metric_filter").values()
    }
    for name, alarm in resources(prod, "aws_cloudwatch_metric_alarm").items():
        for metric in _alarm_metrics(alarm):
            namespace = metric["namespace"]
            if namespace in PUBLISHED:
                assert metric["metric_name"] in PUBLISHED[namespace]["names"], (name, metric)
                assert set(metric.get("dimensions") or {}) in PUBLISHED[namespace]["dimensions"], (name, metric)
            else:
                assert (namespace, metric["metric_name"]) in custom_metrics, (name, metric)


def test_every_alarm_notifies_both_ways_and_says_what_it_means(prod):
    topic = ref("aws_sns_topic", next(iter(resources(prod, "aws_sns_topic"))), "arn")
    alarms = resources(prod, "aws_cloudwatch_metric_alarm")
    # 3 API + per route group 5 function/app + 2 release gates + its DLQ (2 groups), + the first group's spillover,
    # the hook's errors and DLQ + 2 per delivery stream (6)
    assert len(alarms) == 3 + 2 * 8 + 3 + 2 * 6
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic], name
        assert alarm["treat_missing_data"] in {"notBreaching", "breaching", "ignore", "missing"}, name
        assert "Runbook: docs/RUNBOOK.md#" in alarm["alarm_description"], name
        assert 1 <= alarm["datapoints_to_alarm"] <= alarm["evaluation_periods"]


def test_error_rates_use_metric_math_with_defined_ids(prod):
    rates = 0
    for alarm in resources(prod, "aws_cloudwatch_metric_alarm").values():
        if "metric_query" not in alarm:
            assert "ErrorRate" not in alarm["metric_name"]
            continue
        rates += 1
        queries = {q["id"]: q for q in alarm["metric_query"]}
        (result,) = [q for q in queries.values() if q.get("return_data")]
        referenced = set(re.findall(r"\b[a-z][a-z_0-9]*\b", result["expression"])) - {"if"}
        assert referenced and referenced <= set(queries) - {result["id"]}, result["expression"]
        assert all(not q.get("return_data") for q in queries.values() if "metric" in q)
    # API 5XX and 4XX; per route group Lambda errors and the released version's errors; the first group's spillover
    assert rates == 2 + 2 * 2 + 1


def test_thresholds_come_from_config(prod):
    alarms = {a["alarm_name"]: a for a in resources(prod, "aws_cloudwatch_metric_alarm").values()}
    assert alarms["serverless-app-prod-lambda-error-rate"]["threshold"] == 0.5
    assert alarms["serverless-app-prod-lambda-duration-p99"]["extended_statistic"] == "p99"
    assert alarms["serverless-app-prod-lambda-duration-p99"]["threshold"] == 8000  # 0.8 x 10 s
    assert alarms["serverless-app-prod-lambda-concurrency"]["threshold"] == 160  # 0.8 x 200 reserved
    assert alarms["serverless-app-prod-api-latency-p99"]["threshold"] == 1000
    # A rate, not "any spillover": a release moves provisioned concurrency with the weights and spills a little.
    spill = alarms["serverless-app-prod-provisioned-spillover"]
    assert spill["threshold"] == 5.0
    assert [q["metric"]["dimensions"] for q in spill["metric_query"] if "metric" in q] == [
        {"FunctionName": "serverless-app-prod-api", "Resource": "serverless-app-prod-api:live"}
    ] * 2


def test_release_gates_watch_only_the_version_being_released_inside_the_canary_interval(prod, dev, local):
    alarms = {a["alarm_name"]: a for a in resources(prod, "aws_cloudwatch_metric_alarm").values()}
    function = next(k for k, f in resources(prod, "aws_lambda_function").items() if f["handler"].startswith("api."))
    version = ref("aws_lambda_function", function, "version")
    errors = alarms["serverless-app-prod-release-error-rate"]
    assert {q["metric"]["dimensions"]["ExecutedVersion"] for q in errors["metric_query"] if "metric" in q} == {version}
    duration = alarms["serverless-app-prod-release-duration-p99"]
    assert duration["dimensions"]["ExecutedVersion"] == version
    # Two one-minute periods, one breaching: the gate fires within the 5-minute canary, before the rest moves.
    for gate in (errors, duration):
        assert (gate["evaluation_periods"], gate["datapoints_to_alarm"]) == (2, 1)
    groups = {g["deployment_group_name"]: g for g in resources(prod, "aws_codedeploy_deployment_group").values()}
    gating = set(groups["serverless-app-prod-live"]["alarm_configuration"]["alarms"])
    names = {
        ref("aws_cloudwatch_metric_alarm", k, "alarm_name"): a["alarm_name"]
        for k, a in resources(prod, "aws_cloudwatch_metric_alarm").items()
    }
    assert {names[g] for g in gating} == {
        "serverless-app-prod-release-error-rate",
        "serverless-app-prod-release-duration-p99",
        "serverless-app-prod-api-5xx-rate",
    }
    # Each route group's release is gated by its own version's alarms and the API's 5XX rate.
    assert {names[g] for g in groups["serverless-app-prod-admin-live"]["alarm_configuration"]["alarms"]} == {
        "serverless-app-prod-admin-release-error-rate",
        "serverless-app-prod-admin-release-duration-p99",
        "serverless-app-prod-api-5xx-rate",
    }
    # dev's linear release moves every minute: its gates look at one minute. local has no CodeDeploy, so no gates.
    dev_gate = next(
        a
        for a in resources(dev, "aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"].endswith("release-error-rate")
    )
    assert dev_gate["evaluation_periods"] == 1
    assert not [a for a in resources(local, "aws_cloudwatch_metric_alarm").values() if "release-" in a["alarm_name"]]


def test_a_release_gate_longer_than_a_release_step_is_refused():
    from dataclasses import replace

    from stacks import environments

    config = environments.load(DEPLOYED)["dev"]
    with pytest.raises(
        ValueError,
        match=r"monitoring.release_gate_evaluation_periods=2 is invalid: allowed at most 1 \(x 60 s periods\): a "
        r"release gate must be able to fire within one 1-minute step of route group 'api''s linear release",
    ):
        replace(config, monitoring=replace(config.monitoring, release_gate_evaluation_periods=2))


def test_every_dead_letter_queue_has_an_alarm(prod):
    queues = {q["name"] for q in resources(prod, "aws_sqs_queue").values()}
    watched = {
        a["dimensions"]["QueueName"]
        for a in resources(prod, "aws_cloudwatch_metric_alarm").values()
        if a.get("namespace") == "AWS/SQS"
    }
    assert (
        queues
        == watched
        == {
            "serverless-app-prod-api-dead-letters",
            "serverless-app-prod-admin-dead-letters",
            "serverless-app-prod-release-hook-dead-letters",
        }
    )


def test_alert_topic_is_encrypted_with_the_stack_key(prod):
    topic = one(prod, "aws_sns_topic")
    key = ref("aws_kms_key", next(iter(resources(prod, "aws_kms_key"))), "arn")
    assert topic["kms_master_key_id"] == key


def test_application_error_metric_comes_from_error_logs_of_each_route_group(prod):
    filters = resources(prod, "aws_cloudwatch_log_metric_filter").values()
    groups = {f["log_group_name"] for f in filters}
    assert len(groups) == len(ROUTE_GROUPS)
    for metric_filter in filters:
        assert metric_filter["pattern"] == '{ $.level = "ERROR" }'
        assert metric_filter["metric_transformation"]["name"] == APP_ERROR_METRIC
    # Each in its own function's namespace: one group's errors never fire another's alarm.
    assert len({f["metric_transformation"]["namespace"] for f in filters}) == len(ROUTE_GROUPS)


def test_dashboard_is_valid_json_naming_the_real_function_alias_and_api(prod):
    dashboard = one(prod, "aws_cloudwatch_dashboard")
    body = json.loads(dashboard["dashboard_body"])
    function = one_of(prod, "aws_lambda_function")["function_name"]
    api = one(prod, "aws_api_gateway_rest_api")["name"]
    stage = one(prod, "aws_api_gateway_stage")["stage_name"]
    alias = f"{function}:{one_of(prod, 'aws_lambda_alias')['name']}"
    text = json.dumps(body)
    for name in (function, api, stage, alias):
        assert f'"{name}"' in text, name
    titles = [w["properties"]["title"] for w in body["widgets"]]
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == len(resources(prod, "aws_cloudwatch_metric_alarm"))
    assert "serverless-app-prod-api: provisioned concurrency utilization" in titles
    assert "serverless-app-prod-admin: invocations, errors, throttles" in titles
    assert "API requests and latency p50/p90/p99" in titles
    for alarm in resources(prod, "aws_cloudwatch_metric_alarm").values():
        # Each alarm has a graph with the same threshold line.
        assert any(
            w["properties"].get("annotations", {}).get("horizontal", [{}])[0].get("value") == alarm["threshold"]
            for w in body["widgets"]
            if w["type"] == "metric"
        ), alarm["alarm_name"]


def test_handler_emits_the_emf_metrics_the_dashboard_graphs():
    # tests/functions/test_handler.py sees each one emitted; here: none the dashboard graphs is missing.
    source = "".join(p.read_text() for p in (PROJECT / "functions" / "api").glob("*.py"))
    for name in ROUTE_GROUPS["api"]["emf_metrics"]:
        assert f'name="{name}"' in source, name


def test_runbook_has_an_entry_for_every_alarm(prod):
    runbook = (PROJECT / "docs" / "RUNBOOK.md").read_text()
    anchors = set(re.findall(r"^## `?([a-z0-9-]+)`?", runbook, flags=re.M))
    for alarm in resources(prod, "aws_cloudwatch_metric_alarm").values():
        anchor = alarm["alarm_description"].rsplit("#", 1)[1]
        assert anchor in anchors, anchor


def test_readme_architecture_diagram_names_only_resources_of_the_prod_stack(prod):
    readme = (PROJECT / "README.md").read_text()
    diagram = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"aws_[a-z0-9_]+", diagram))
    assert len(named) >= 10
    assert named <= set(prod["resource"]), named - set(prod["resource"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"lambda_error_rate_percent": -1}, "monitoring.lambda_error_rate_percent=-1 is invalid"),
        ({"api_latency_p99_ms": -5}, "monitoring.api_latency_p99_ms=-5 is invalid"),
        ({"evaluation_periods": 0}, "monitoring.evaluation_periods=0 is invalid: allowed 1..100"),
        ({"datapoints_to_alarm": 6}, "monitoring.datapoints_to_alarm=6 is invalid: allowed 1..5"),
        ({"period_seconds": 45}, "monitoring.period_seconds=45 is invalid"),
        ({"alarm_emails": ("not-an-email",)}, r"monitoring.alarm_emails\[0\]='not-an-email' is invalid"),
        ({"alarm_https_endpoints": ("http://insecure",)}, r"monitoring.alarm_https_endpoints\[0\]"),
        ({"duration_p99_fraction_of_timeout": 1.5}, "monitoring.duration_p99_fraction_of_timeout=1.5 is invalid"),
    ],
)
def test_monitoring_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        MonitoringConfig(**{"name": "m", **values})


def test_p99_threshold_above_the_timeout_is_refused():
    from dataclasses import replace

    from stacks import environments

    config = environments.load(DEPLOYED)["prod"]
    with pytest.raises(
        ValueError,
        match=r"monitoring.api_latency_p99_ms=15000.0 is invalid: allowed <= "
        r"the longest route group function timeout \* 1000 \(10000\)",
    ):
        replace(config, monitoring=replace(config.monitoring, api_latency_p99_ms=15000.0))
