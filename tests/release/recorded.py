"""CodeDeploy, Lambda and CloudWatch responses as AWS returns them, replayed in order by ``Recorded``.

The shapes follow the API references (GetDeployment's deploymentInfo, GetAlias, DescribeAlarms, ...); only the
fields the release command reads vary between the scenarios.
"""

from __future__ import annotations

from collections import defaultdict


def deployment(status: str, *, error: dict | None = None, rollback: dict | None = None) -> dict:
    info = {
        "applicationName": "serverless-app-prod",
        "deploymentGroupName": "serverless-app-prod-live",
        "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "deploymentId": "d-RELEASE1",
        "status": status,
        "computePlatform": "Lambda",
        "creator": "user",
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
    }
    if error:
        info["errorInformation"] = error
    if rollback:
        info["rollbackInfo"] = rollback
    return {"deploymentInfo": info}


def alias(version: str, weight: dict[str, float] | None = None) -> dict:
    response = {
        "AliasArn": "arn:aws:lambda:us-east-1:111122223333:function:serverless-app-prod-api:live",
        "Name": "live",
        "FunctionVersion": version,
        "Description": "",
        "RevisionId": "r",
    }
    if weight:
        response["RoutingConfig"] = {"AdditionalVersionWeights": weight}
    return response


def alarms(*in_alarm: str) -> dict:
    names = (
        "serverless-app-prod-lambda-error-rate",
        "serverless-app-prod-lambda-duration-p99",
        "serverless-app-prod-api-5xx-rate",
    )
    return {"MetricAlarms": [{"AlarmName": n, "StateValue": "ALARM" if n in in_alarm else "OK"} for n in names]}


def hook_target(status: str) -> dict:
    return {
        "deploymentTarget": {
            "deploymentTargetType": "LambdaTarget",
            "lambdaTarget": {
                "deploymentId": "d-RELEASE1",
                "targetId": "serverless-app-prod-api:live",
                "status": status,
                "lifecycleEvents": [
                    {"lifecycleEventName": "BeforeAllowTraffic", "status": status},
                    {"lifecycleEventName": "AfterAllowTraffic", "status": "Skipped"},
                ],
            },
        }
    }


class Recorded:
    """A boto3 client stand-in: each operation returns its recorded responses in order (the last one repeats)."""

    def __init__(self, responses: dict[str, list]) -> None:
        self.responses = {op: list(items) for op, items in responses.items()}
        self.calls: dict[str, list[dict]] = defaultdict(list)

    def __getattr__(self, operation: str):
        if operation not in self.responses:
            raise AttributeError(operation)

        def call(**kwargs):
            self.calls[operation].append(kwargs)
            queue = self.responses[operation]
            return queue.pop(0) if len(queue) > 1 else queue[0]

        return call

    def get_paginator(self, operation: str):
        client = self

        class Paginator:
            def paginate(self, **kwargs):
                return [getattr(client, operation)(**kwargs)]

        return Paginator()
