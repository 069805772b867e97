"""The API's routes: Powertools' resolver with validation on, so the models in ``models.py`` are the contract.

Error bodies: 400 ``invalid_json``, 413 ``payload_too_large`` and 415 ``unsupported_media_type`` (both checked in
``handler.py`` before parsing), 422 ``validation_failed`` with every offending field, 404 ``not_found``, 405
``method_not_allowed`` with ``allowed``, 500 ``internal_error`` (a bug: logged at ERROR, which an alarm watches).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit

from . import security
from .models import MAX_BODY_BYTES, TIMESTAMP_HELP, Accepted, Caller, Error, Event, Health, ValidationFailed

# RFC 3339 in UTC: the archive's tables read "timestamp" with from_iso8601_timestamp (modules/saved_queries.py).
logger = Logger(use_rfc3339=True, utc=True)
metrics = Metrics()
SERVICE_VERSION = os.environ.get("SERVICE_VERSION", "0.0.0")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


def cors_config(environ: dict[str, str] | os._Environ = os.environ) -> CORSConfig | None:
    """The browser origins the stack allows (``CORS_ALLOWED_ORIGINS``, set by the infrastructure), as Powertools'
    CORS configuration, or None: the handler then adds no CORS header at all."""
    origins = [o.strip() for o in environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=[h.strip() for h in environ.get("CORS_ALLOWED_HEADERS", "").split(",") if h.strip()],
        max_age=int(environ.get("CORS_MAX_AGE_SECONDS", "600")),
        allow_credentials=environ.get("CORS_ALLOW_CREDENTIALS", "false") == "true",
    )


CORS = cors_config()
app = APIGatewayRestResolver(enable_validation=True, cors=CORS)


def _json(model: type) -> dict:
    return {"application/json": {"model": model}}


# What API Gateway itself answers (no or a bad token or key, a missing scope, throttled), and the errors every
# operation can give.
GATEWAY_RESPONSES: dict[int, Any] = {
    403: {"description": "Missing or invalid x-api-key (API Gateway)", "content": _json(Error)},
    429: {
        "description": "Over the stage's or the key's usage-plan throttle or quota (API Gateway)",
        "content": _json(Error),
    },
    500: {"description": "Unexpected error (logged; an alarm watches the rate)", "content": _json(Error)},
}
TOKEN_RESPONSES: dict[int, Any] = {
    401: {"description": "Missing, malformed, expired or foreign token (API Gateway)", "content": _json(Error)},
    403: {
        "description": "The token lacks the operation's scope, or the x-api-key is missing or invalid (API Gateway)",
        "content": _json(Error),
    },
}
SIGNATURE_RESPONSES: dict[int, Any] = {
    403: {
        "description": "Unsigned, wrongly signed, or a principal the API's resource policy refuses (API Gateway)",
        "content": _json(Error),
    },
}


def error(status: HTTPStatus, code: str, message: str, **details: Any) -> Response:
    """A JSON error body; every failure the client can cause is a 4xx built here."""
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": code, "message": message, **details}, separators=(",", ":")),
    )


@app.get(
    "/health",
    summary="Is the service up",
    tags=["service"],
    security=security.key_only(),
    responses={200: {"description": "The function answers", "content": _json(Health)}, **GATEWAY_RESPONSES},
)
def health() -> Health:
    return Health(status="ok", service=logger.service, version=SERVICE_VERSION)


EVENT_RESPONSES: dict[int, Any] = {
    202: {"description": "Accepted and logged to the archive", "content": _json(Accepted)},
    400: {"description": "The body is not JSON", "content": _json(Error)},
    413: {"description": f"The body is larger than {MAX_BODY_BYTES} bytes", "content": _json(Error)},
    415: {"description": "The Content-Type is not application/json", "content": _json(Error)},
    422: {"description": "The body is not a valid event", "content": _json(ValidationFailed)},
}


@app.post(
    "/events",
    summary="Accept an event",
    tags=["events"],
    security=security.jwt("events/write"),
    responses={**EVENT_RESPONSES, **GATEWAY_RESPONSES, **TOKEN_RESPONSES},
)
def accept_event(event: Event) -> Response[Accepted]:
    return _accept(event)


@app.post(
    "/internal/events",
    summary="Accept an event from another service of the account (SigV4)",
    tags=["events"],
    security=security.sigv4(),
    responses={**EVENT_RESPONSES, **GATEWAY_RESPONSES, **SIGNATURE_RESPONSES},
)
def accept_internal_event(event: Event) -> Response[Accepted]:
    return _accept(event)


@app.get(
    "/whoami",
    summary="Who the API takes the caller for",
    tags=["service"],
    security=security.jwt("events/read", "events/write"),
    responses={
        200: {"description": "The caller, from the token's claims", "content": _json(Caller)},
        **GATEWAY_RESPONSES,
        **TOKEN_RESPONSES,
    },
)
def whoami() -> Caller:
    return Caller(**security.caller(app.current_event.raw_event.get("requestContext") or {}))


def _accept(event: Event) -> Response[Accepted]:
    event_id = str(uuid.uuid4())
    received_at = datetime.now(UTC).isoformat()
    # This record is the application log the archive keeps: one structured line per accepted event (the caller is
    # on every line, see handler.py).
    logger.info(
        "event accepted",
        extra={
            "event_id": event_id,
            "event_type": event.type,
            "event_timestamp": event.timestamp,
            "received_at": received_at,
            "payload": event.payload,
        },
    )
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED.value,
        content_type=content_types.APPLICATION_JSON,
        body=Accepted(id=event_id, received_at=received_at),
    )


def rejected(status: HTTPStatus, code: str, message: str, **details: Any) -> Response:
    metrics.add_metric(name="RejectedEvents", unit=MetricUnit.Count, value=1)
    # A refused request leaves a function line too, so the archive follows it by its request id (the fields say
    # what was wrong, never the values sent).
    logger.info("request rejected", extra={"status": int(status), "error": code, "fields": details.get("fields")})
    return error(status, code, message, **details)


# Messages by pydantic error type, then by field: the client reads these, so they say what is allowed.
MESSAGES_BY_TYPE = {
    "missing": "is required",
    "extra_forbidden": "is not allowed",
    "dict_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}
MESSAGES_BY_FIELD = {"type": "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'", "timestamp": TIMESTAMP_HELP}


def _problem(detail: dict) -> dict[str, str]:
    """One pydantic error as ``{"field", "message"}``; the body as a whole is ``(body)``."""
    field = ".".join(str(part) for part in detail.get("loc", ())[1:]) or "(body)"
    kind = detail.get("type", "")
    message = MESSAGES_BY_TYPE.get(kind) or MESSAGES_BY_FIELD.get(field) or str(detail.get("msg", "is invalid"))
    if field == "(body)" and kind not in MESSAGES_BY_TYPE:
        message = "must be a JSON object"
    return {"field": field, "message": message}


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    details = list(exc.errors())
    not_json = any(d.get("type") == "json_invalid" for d in details) or not (app.current_event.body or "").strip()
    if not_json:
        return rejected(HTTPStatus.BAD_REQUEST, "invalid_json", "body must be a JSON object")
    problems = list({(p["field"], p["message"]): p for p in map(_problem, details)}.values())
    return rejected(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_failed", "the event is invalid", fields=problems)


@app.exception_handler(RecursionError)
def too_deep(_: RecursionError) -> Response:
    return rejected(HTTPStatus.BAD_REQUEST, "invalid_json", "body must be a JSON object")


@cache
def _routes() -> dict[str, list[str]]:
    """Methods by path, from the routes the resolver declares (the same source as the OpenAPI document)."""
    paths = app.get_openapi_schema(security_schemes=security.schemes()).paths or {}
    return {path: sorted(m.upper() for m in METHODS if getattr(item, m.lower(), None)) for path, item in paths.items()}


@app.not_found
def not_found(_: Exception) -> Response:
    path = app.current_event.path
    allowed = _routes().get(path)
    if allowed:
        response = error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            f"{app.current_event.http_method} is not allowed on {path}",
            allowed=allowed,
        )
        response.headers["Allow"] = ", ".join(allowed)  # required with a 405 (RFC 9110)
        return response
    return error(HTTPStatus.NOT_FOUND, "not_found", f"no route for {path}")


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    # A bug, not bad input: log it as an application error (alarmed on) and answer without details.
    logger.exception("unhandled error")
    metrics.add_metric(name="ApplicationErrors", unit=MetricUnit.Count, value=1)
    return error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "unexpected error")
