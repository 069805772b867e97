"""``BeforeAllowTraffic`` hook: invoke the new version with synthetic API requests, report the outcome to CodeDeploy.

CodeDeploy calls this with the deployment id and the hook execution id; the new version is the deployment's
``TargetVersion``. A check that does not answer as the API contract says fails the deployment before any traffic
shifts. Configuration arrives as environment variables set by the stack: ``TARGET_FUNCTION_NAME``, and
``SMOKE_CHECKS``, the route group's checks (a JSON list of ``method``, ``path``, ``status``, ``body``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

# RFC 3339 in UTC: the archive's tables read "timestamp" with from_iso8601_timestamp (modules/saved_queries.py).
logger = Logger(use_rfc3339=True, utc=True)
codedeploy = boto3.client("codedeploy")
lambda_client = boto3.client("lambda")
TARGET_FUNCTION_NAME = os.environ.get("TARGET_FUNCTION_NAME", "")
SMOKE_CHECKS: list[dict[str, Any]] = json.loads(os.environ.get("SMOKE_CHECKS") or "[]")


def proxy_event(method: str, path: str, body: dict | None, deployment_id: str) -> dict[str, Any]:
    """The fields of an API Gateway REST proxy event the API function reads."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json", "user-agent": "release-hook"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": f"release-{deployment_id}",
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": "release-hook",
            "identity": {"sourceIp": "127.0.0.1"},
            # As a Cognito authorizer passes a caller's claims: the smoke test is the caller the function logs.
            "authorizer": {"claims": {"sub": "release-hook", "client_id": "release-hook", "token_use": "access"}},
        },
        "body": json.dumps(body) if body is not None else None,
    }


def checks(deployment_id: str) -> list[tuple[str, dict[str, Any], int]]:
    """``(name, event, expected status)`` of every synthetic request of ``SMOKE_CHECKS``."""
    return [
        (
            f"{check['method']} {check['path']}",
            proxy_event(check["method"], check["path"], check.get("body"), deployment_id),
            int(check["status"]),
        )
        for check in SMOKE_CHECKS
    ]


def target_version(deployment_id: str) -> str:
    """The version the deployment shifts to, from its AppSpec."""
    revision = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["revision"]
    appspec = json.loads(revision["appSpecContent"]["content"])
    (resource,) = appspec["Resources"][0].values()
    return str(resource["Properties"]["TargetVersion"])


def run_checks(deployment_id: str, version: str) -> list[str]:
    """Every failed check, described; empty when the version answers as it must."""
    planned = checks(deployment_id)
    if not planned:  # the stack refuses a hook without checks; a hook that asked nothing would pass any version
        return ["no smoke checks configured (SMOKE_CHECKS is empty)"]
    failures = []
    for name, event, expected in planned:
        response = lambda_client.invoke(
            FunctionName=TARGET_FUNCTION_NAME, Qualifier=version, Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read() or b"{}")
        status = payload.get("statusCode") if isinstance(payload, dict) else None
        if response.get("FunctionError") or status != expected:
            failures.append(f"{name}: expected {expected}, got {status} ({response.get('FunctionError') or 'ok'})")
        logger.info("smoke check", extra={"check": name, "version": version, "status": status, "expected": expected})
    return failures


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    deployment_id = event["DeploymentId"]
    status, failures = "Failed", ["the hook did not finish"]
    try:
        version = target_version(deployment_id)
        failures = run_checks(deployment_id, version)
        status = "Failed" if failures else "Succeeded"
    except Exception:
        logger.exception("smoke checks could not run")
        raise
    finally:
        if status == "Failed":
            logger.error("pre-traffic checks failed", extra={"deployment": deployment_id, "failures": failures})
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id,
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )
    return {"status": status}
