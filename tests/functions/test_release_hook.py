"""The pre-traffic hook: its synthetic requests are answered by the real API handler as the contract says, and
CodeDeploy hears Succeeded, or Failed when the new version misbehaves."""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest

from tools.lambda_runtime import LambdaContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "release"))
from recorded import Recorded

APPSPEC = {
    "version": 0.0,
    "Resources": [
        {
            "serverless-app-prod-api": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Name": "serverless-app-prod-api",
                    "Alias": "live",
                    "CurrentVersion": "7",
                    "TargetVersion": "8",
                },
            }
        }
    ],
}


class VersionOf:
    """Lambda's Invoke, answered by a handler in this process (standing for the new version)."""

    def __init__(self, handler) -> None:
        self.handler, self.calls = handler, []

    def invoke(self, FunctionName: str, Qualifier: str, Payload: bytes) -> dict:  # noqa: N803 - boto3's names
        self.calls.append((FunctionName, Qualifier))
        try:
            result = self.handler(json.loads(Payload), LambdaContext())
        except Exception as error:  # Lambda reports an unhandled error, with the error as payload
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": io.BytesIO(json.dumps({"errorMessage": str(error)}).encode()),
            }
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


@pytest.fixture
def smoke_checks(prod) -> str:
    """The checks prod's hook is configured with, as synthesized."""
    (hook,) = [f for f in prod["resource"]["aws_lambda_function"].values() if f["function_name"].endswith("-hook")]
    return hook["environment"]["variables"]["SMOKE_CHECKS"]


@pytest.fixture
def hook(monkeypatch, smoke_checks):
    monkeypatch.setenv("TARGET_FUNCTION_NAME", "serverless-app-prod-api")
    monkeypatch.setenv("SMOKE_CHECKS", smoke_checks)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from functions.release_hook import handler

    return importlib.reload(handler)


def _run(hook, monkeypatch, version_handler):
    codedeploy = Recorded(
        {
            "get_deployment": [
                {
                    "deploymentInfo": {
                        "revision": {
                            "revisionType": "AppSpecContent",
                            "appSpecContent": {"content": json.dumps(APPSPEC)},
                        }
                    }
                }
            ],
            "put_lifecycle_event_hook_execution_status": [{"lifecycleEventHookExecutionId": "h-1"}],
        }
    )
    lambda_client = VersionOf(version_handler)
    monkeypatch.setattr(hook, "codedeploy", codedeploy)
    monkeypatch.setattr(hook, "lambda_client", lambda_client)
    result = hook.lambda_handler(
        {"DeploymentId": "d-RELEASE1", "LifecycleEventHookExecutionId": "h-1"},
        LambdaContext("serverless-app-prod-release-hook"),
    )
    (reported,) = codedeploy.calls["put_lifecycle_event_hook_execution_status"]
    return result, reported, lambda_client


def test_a_healthy_version_passes_the_groups_checks(hook, monkeypatch, smoke_checks):
    from functions.api import handler as api

    result, reported, lambda_client = _run(hook, monkeypatch, api.lambda_handler)
    assert [name for name, *_ in hook.checks("d-RELEASE1")] == ["GET /health", "POST /events"]
    assert result == {"status": "Succeeded"}
    assert reported == {"deploymentId": "d-RELEASE1", "lifecycleEventHookExecutionId": "h-1", "status": "Succeeded"}
    assert lambda_client.calls == [("serverless-app-prod-api", "8")] * 2  # the target version, never the alias


def test_a_check_expecting_another_status_fails_the_deployment(hook, monkeypatch):
    from functions.api import handler as api

    monkeypatch.setattr(hook, "SMOKE_CHECKS", [{"method": "GET", "path": "/health", "status": 204, "body": None}])
    _, reported, _ = _run(hook, monkeypatch, api.lambda_handler)
    assert reported["status"] == "Failed"


def test_a_hook_without_checks_fails_rather_than_pass_any_version(hook, monkeypatch):
    from functions.api import handler as api

    monkeypatch.setattr(hook, "SMOKE_CHECKS", [])
    result, reported, lambda_client = _run(hook, monkeypatch, api.lambda_handler)
    assert result == {"status": "Failed"} and reported["status"] == "Failed" and lambda_client.calls == []


def test_a_broken_version_fails_the_deployment_before_any_traffic(hook, monkeypatch):
    def broken(event, context):
        raise RuntimeError("import error in the new version")

    result, reported, _ = _run(hook, monkeypatch, broken)
    assert result == {"status": "Failed"} and reported["status"] == "Failed"


def test_a_version_that_answers_wrongly_fails_too(hook, monkeypatch):
    def wrong(event, context):
        return {"statusCode": 500, "body": "{}"}

    _, reported, _ = _run(hook, monkeypatch, wrong)
    assert reported["status"] == "Failed"
