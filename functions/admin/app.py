"""The admin route group's routes: one signed read of what is deployed, answered by its own function.

A separate package (and function) from ``functions/api``: its own reserved concurrency, alarms, release and log
group, so an operator's call never competes with callers' traffic. Self-contained, as each function's zip holds only
its own package: the security scheme name is the contract's (``functions/api/security.py``, ``SIGV4``).
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import BaseModel, ConfigDict

# RFC 3339 in UTC: the archive's tables read "timestamp" with from_iso8601_timestamp (modules/saved_queries.py).
logger = Logger(use_rfc3339=True, utc=True)
app = APIGatewayRestResolver(enable_validation=True)
SIGNED = [{"sigv4": []}]  # an IAM principal of the account, by SigV4 (the contract's "sigv4" scheme)
PATHS = {"/admin/deployment": ["GET"]}


class Deployment(BaseModel):
    """What serves this route group: its service, version and the Lambda version that answered."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]
    service: str
    version: str
    function_name: str
    function_version: str


class Error(BaseModel):
    error: str
    message: str


def _json(model: type[BaseModel]) -> dict:
    return {"application/json": {"schema": model.model_json_schema()}}


@app.get(
    "/admin/deployment",
    summary="What is deployed (SigV4)",
    tags=["admin"],
    security=SIGNED,
    responses={
        200: {"description": "The deployed service and version", "content": _json(Deployment)},
        403: {
            "description": "Unsigned, wrongly signed, or a principal the API's resource policy refuses (API Gateway)",
            "content": _json(Error),
        },
        429: {"description": "Over the stage's throttle (API Gateway)", "content": _json(Error)},
        500: {"description": "Unexpected error (logged; an alarm watches the rate)", "content": _json(Error)},
    },
)
def deployment() -> Deployment:
    context = app.lambda_context
    logger.info("deployment read")  # who asked is in the line's caller key (handler.py)
    return Deployment(
        status="ok",
        service=logger.service,
        version=os.environ.get("SERVICE_VERSION", "0.0.0"),
        function_name=getattr(context, "function_name", ""),
        function_version=getattr(context, "function_version", ""),
    )


@app.not_found
def not_found(_: Exception) -> Response:
    path, method = app.current_event.path, app.current_event.http_method
    allowed = PATHS.get(path)
    status = HTTPStatus.METHOD_NOT_ALLOWED if allowed else HTTPStatus.NOT_FOUND
    message = f"{method} is not allowed on {path}" if allowed else f"no route for {path}"
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=Error(error="method_not_allowed" if allowed else "not_found", message=message).model_dump_json(),
        headers={"Allow": ", ".join(allowed)} if allowed else None,
    )
