"""API handler: ``GET /health`` and ``POST /events`` behind an API Gateway REST proxy integration.

Configuration arrives as environment variables set by the infrastructure: ``POWERTOOLS_SERVICE_NAME``,
``POWERTOOLS_METRICS_NAMESPACE``, ``SERVICE_VERSION`` and ``POWERTOOLS_LOG_LEVEL``. Logs and metrics are
structured (JSON lines and EMF on stdout); nothing here performs network I/O for logging.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from .events import MAX_BODY_BYTES, validate_event

logger = Logger()
tracer = Tracer(auto_patch=False)  # the handler makes no AWS SDK calls to patch
metrics = Metrics()
app = APIGatewayRestResolver()

ROUTES = {"/health": {"GET"}, "/events": {"POST"}}
SERVICE_VERSION = os.environ.get("SERVICE_VERSION", "0.0.0")


def error(status: HTTPStatus, code: str, message: str, **details: Any) -> Response:
    """A JSON error body; every failure the client can cause is a 4xx built here."""
    body = {"error": code, "message": message, **details}
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, separators=(",", ":")),
    )


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "service": logger.service, "version": SERVICE_VERSION}


@app.post("/events")
def accept_event() -> Response:
    raw = app.current_event.body or ""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        return error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", f"body exceeds {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        return error(HTTPStatus.BAD_REQUEST, "invalid_json", "body must be a JSON object")
    problems = validate_event(body)
    if problems:
        metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
        return error(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_failed", "the event is invalid", fields=problems)
    event_id = str(uuid.uuid4())
    received_at = datetime.now(UTC).isoformat()
    # This record is the application log the archive keeps: one structured line per accepted event.
    logger.info(
        "event accepted",
        extra={
            "event_id": event_id,
            "event_type": body["type"],
            "event_timestamp": body.get("timestamp"),
            "received_at": received_at,
            "payload": body["payload"],
        },
    )
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"id": event_id, "received_at": received_at}, separators=(",", ":")),
    )


@app.not_found
def not_found(_: Exception) -> Response:
    path = app.current_event.path
    if path in ROUTES:
        return error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"{app.current_event.http_method} is not allowed on {path}",
            allowed=sorted(ROUTES[path]),
        )
    return error(HTTPStatus.NOT_FOUND, "not_found", f"no route for {path}")


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    # A bug, not bad input: log it as an application error (alarmed on) and answer without details.
    logger.exception("unhandled error")
    metrics.add_metric(name="ApplicationErrors", unit=MetricUnit.Count, value=1)
    return error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "unexpected error")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
