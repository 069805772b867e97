"""The API's contract, declared once: request and response bodies as Pydantic models.

The resolver validates requests with them and generates the OpenAPI document from them (``docs/openapi.json``);
API Gateway validates request bodies with models converted from that document. Nothing else states the contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

TYPE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_BODY_BYTES = 256 * 1024
TIMESTAMP_HELP = "must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z"


def _iso8601(value: str) -> str:
    """Accept what ``datetime.fromisoformat`` parses (with ``Z``), as a date or a date-time of 10..40 characters."""
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(TIMESTAMP_HELP) from None
    if not 10 <= len(value) <= 40 or ("T" not in value and len(value) != 10):
        raise ValueError(TIMESTAMP_HELP)
    return value


class Event(BaseModel):
    """An event to accept: what happened (``type``), its data (``payload``), and optionally when."""

    model_config = ConfigDict(extra="forbid", title="Event")

    type: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=TYPE_PATTERN,
            description="1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
            examples=["order.created"],
        ),
    ]
    payload: Annotated[dict[str, Any], Field(description="Any JSON object", examples=[{"order": 42}])]
    # A string, not a datetime: JSON has no date type, and a number must not pass for one.
    timestamp: Annotated[
        str,
        AfterValidator(_iso8601),
        Field(
            description="When it happened, ISO-8601",
            json_schema_extra={"format": "date-time"},
            examples=["2026-11-24T12:00:00Z"],
        ),
    ] = None  # type: ignore[assignment]


class Accepted(BaseModel):
    """The event was accepted and logged; ``id`` identifies it in the archive."""

    id: Annotated[str, Field(description="UUID of the accepted event", json_schema_extra={"format": "uuid"})]
    received_at: Annotated[
        str, Field(description="When the API accepted it (UTC, ISO-8601)", json_schema_extra={"format": "date-time"})
    ]


class Health(BaseModel):
    """The function answers, with its service name and version."""

    status: Literal["ok"]
    service: str
    version: str


class Error(BaseModel):
    """Every error body: a machine-readable ``error`` code and a human ``message``."""

    error: str
    message: str


class FieldProblem(BaseModel):
    field: Annotated[str, Field(description="The offending field, or '(body)' for the body as a whole")]
    message: str


class ValidationFailed(Error):
    """422: the body is JSON but not a valid event; every offending field is listed."""

    fields: list[FieldProblem]


class MethodNotAllowed(Error):
    """405: the path exists, the method does not; ``allowed`` lists the methods it has."""

    allowed: list[str]


class Caller(BaseModel):
    """Who API Gateway let in: a token's subject, app client and scopes, or an IAM principal, or only an API key."""

    type: Literal["jwt", "iam", "api_key"]
    sub: str | None = None
    client_id: str | None = None
    scopes: list[str] | None = None
    token_use: str | None = None
    arn: str | None = None
    account: str | None = None
    api_key_id: str | None = None
