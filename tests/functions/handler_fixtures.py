"""Fake Lambda context and API Gateway events; importing this configures Powertools as the stack does."""

from __future__ import annotations

import os
from typing import Any

os.environ.update({"POWERTOOLS_SERVICE_NAME": "serverless-app", "POWERTOOLS_METRICS_NAMESPACE": "serverless-app/test",
                   "POWERTOOLS_TRACE_DISABLED": "true", "SERVICE_VERSION": "9.9.9", "POWERTOOLS_LOG_LEVEL": "INFO"})


class FakeContext:
    function_name = "serverless-app-test-api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:serverless-app-test-api:live"
    memory_limit_in_mb = 256
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/serverless-app-test-api"
    log_stream_name = "2026/11/24/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def api_event(method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
              request_id: str = "req-123") -> dict[str, Any]:
    """An API Gateway REST proxy event (format 1.0) for the ``{proxy+}`` resource."""
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"requestId": request_id, "path": f"/v1{path}", "httpMethod": method, "stage": "v1",
                           "resourcePath": "/{proxy+}", "accountId": "123456789012", "apiId": "abc123",
                           "identity": {"sourceIp": "127.0.0.1"}},
        "body": body, "isBase64Encoded": False,
    }


