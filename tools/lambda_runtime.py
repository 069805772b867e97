"""What Lambda hands a handler, outside Lambda: a context object and API Gateway REST proxy (v1) events.

One definition, used by the local API runner, the handler tests and the benchmarks.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_ID = "123456789012"  # the emulator's default account


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(
        self,
        function_name: str = "serverless-app-test-api",
        *,
        memory_limit_in_mb: int = 256,
        timeout_seconds: float = 10,
        alias: str = "live",
        log_stream_name: str | None = None,
        aws_request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function_name}:{alias}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def proxy_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    *,
    headers: dict[str, str] | None = None,
    stage: str = "v1",
    resource: str = "/{proxy+}",
    api_key: str | None = None,
    request_id: str | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    principal: dict[str, str] | None = None,
    api_key_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy (format 1.0) event. ``path`` may carry a query string and may start with
    ``/<stage>`` (as a raw request line does); ``resource`` is the API resource that matched, and
    ``path_parameters`` what its ``{placeholders}`` matched (``{proxy+}`` is filled in here). ``claims`` are a
    Cognito authorizer's, ``principal`` a SigV4 caller's identity fields (``userArn``, ``accountId``, ...)."""
    # Split by hand: urlsplit refuses a path with a stray "[" (an IPv6 literal to it), which a client may send.
    raw_path, _, raw_query = path.partition("?")
    path = raw_path[len(stage) + 1 :] if raw_path.startswith(f"/{stage}/") or raw_path == f"/{stage}" else raw_path
    path = path or "/"
    query = parse_qs(raw_query, keep_blank_values=True)
    headers = dict(headers or {})
    if isinstance(body, bytes):
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    else:
        text, encoded = body, False
    request_id = request_id or str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or ({"proxy": path.lstrip("/")} if resource == "/{proxy+}" else None),
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent"),
                "apiKey": api_key,
                "apiKeyId": api_key_id,
                **(principal or {}),
            },
            # A Cognito authorizer passes the token's claims, every value a string, and never the token itself.
            **({"authorizer": {"claims": {k: str(v) for k, v in claims.items()}}} if claims else {}),
        },
        "body": text or None,
        "isBase64Encoded": encoded,
    }


def response_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers of a proxy integration's answer, as API Gateway merges them: ``headers`` and
    ``multiValueHeaders`` (Powertools' REST resolver sets only the latter), the multi-valued ones winning."""
    single = {k: [v] for k, v in (result.get("headers") or {}).items()}
    merged = {**single, **{k: list(v) for k, v in (result.get("multiValueHeaders") or {}).items()}}
    return [(name, str(value)) for name, values in merged.items() for value in values]
