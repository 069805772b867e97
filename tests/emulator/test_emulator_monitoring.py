"""The applied alarms and dashboard, read back from the emulator."""

import json


def test_alarms_exist_and_notify_the_topic(deployed):
    cloudwatch = deployed.client("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="serverless-app-local-")["MetricAlarms"]
    # 3 API + 5 per route group (2) + 2 per delivery stream (4: access, execution, each group's function)
    assert len(alarms) == int(deployed.outputs["alarm_count"]) == 3 + 5 * 2 + 2 * 4
    topic = deployed.outputs["alarm_topic_arn"]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], alarm["AlarmName"]
        assert "Runbook: docs/RUNBOOK.md#" in alarm["AlarmDescription"]
    error_rate = next(a for a in alarms if a["AlarmName"].endswith("lambda-error-rate"))
    assert {m["Id"] for m in error_rate["Metrics"]} == {"result", "part", "total"}


def test_dashboard_is_readable_and_lists_the_alarms(deployed):
    dashboard = deployed.client("cloudwatch").get_dashboard(DashboardName=deployed.outputs["dashboard_name"])
    body = json.loads(dashboard["DashboardBody"])
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == int(deployed.outputs["alarm_count"])
    assert all(arn.startswith("arn:aws:cloudwatch:us-east-1:") for arn in alarm_widget["properties"]["alarms"])


def test_topic_is_encrypted(deployed):
    attributes = deployed.client("sns").get_topic_attributes(TopicArn=deployed.outputs["alarm_topic_arn"])
    assert attributes["Attributes"]["KmsMasterKeyId"] == deployed.outputs["kms_key_arn"]
