"""API handler: the Lambda entry point of the routes in ``app.py`` behind an API Gateway REST proxy integration.

Configuration arrives as environment variables set by the infrastructure: ``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``, ``SERVICE_VERSION`` and ``POWERTOOLS_LOG_LEVEL``. Logs and metrics are
structured (JSON lines and EMF on stdout); nothing here performs network I/O for logging.
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import security
from .app import CORS, app, logger, metrics
from .models import MAX_BODY_BYTES

JSON = "application/json"
tracer = Tracer(auto_patch=False)  # the handler makes no AWS SDK calls to patch


def _body_bytes(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode("utf-8", "surrogatepass"))


def _content_type(event: dict[str, Any]) -> str:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    return (headers.get("content-type") or "").split(";")[0].strip().lower()


def _refused(status: HTTPStatus, code: str, message: str, event: dict[str, Any]) -> dict[str, Any]:
    # Before any parsing: refused without reading the body into a model (with the resolver's CORS headers, so a
    # browser can read why).
    metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
    origin = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("origin")
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": "application/json", **(CORS.to_dict(origin) if CORS else {})},
        "multiValueHeaders": {},
        "body": json.dumps({"error": code, "message": message}, separators=(",", ":")),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every line of this request names its caller: claims or principal, never the token or the key.
    logger.append_keys(caller=security.caller(event.get("requestContext") or {}))
    size = _body_bytes(event)
    if size > MAX_BODY_BYTES:
        return _refused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", f"body exceeds {MAX_BODY_BYTES} bytes", event
        )
    # Bodies are JSON (no Content-Type means JSON, as API Gateway assumes); a form post of JSON text, curl -d's
    # default, would otherwise be parsed as form fields and fail validation with a confusing 422.
    content_type = _content_type(event)
    if size and content_type not in ("", JSON):
        return _refused(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"Content-Type {content_type!r} is not supported: send {JSON}",
            event,
        )
    # JSON is UTF-8 text (RFC 8259): a body that is not cannot be JSON, whatever its Content-Type says.
    if event.get("isBase64Encoded") and not _utf8(event.get("body") or ""):
        return _refused(HTTPStatus.BAD_REQUEST, "invalid_json", "body must be a JSON object (UTF-8 text)", event)
    return app.resolve(event, context)


def _utf8(body: str) -> bool:
    try:
        base64.b64decode(body, validate=False).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return False
    return True
