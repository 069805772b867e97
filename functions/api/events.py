"""The ``POST /events`` contract: one definition feeds the handler's validation and API Gateway's model."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TYPE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_BODY_BYTES = 256 * 1024

# JSON Schema draft-04, the dialect API Gateway request validation speaks.
EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Event",
    "type": "object",
    "required": ["type", "payload"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": TYPE_PATTERN},
        "payload": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
    },
}
_TYPE = re.compile(TYPE_PATTERN)


def validate_event(body: Any) -> list[dict[str, str]]:
    """Every problem with an event body, as ``{"field", "message"}``; empty when the event is valid."""
    if not isinstance(body, dict):
        return [{"field": "(body)", "message": "must be a JSON object"}]
    errors = []
    kind = body.get("type")
    if "type" not in body:
        errors.append({"field": "type", "message": "is required"})
    elif not isinstance(kind, str) or not _TYPE.match(kind):
        errors.append({"field": "type", "message": "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '-'"})
    if "payload" not in body:
        errors.append({"field": "payload", "message": "is required"})
    elif not isinstance(body["payload"], dict):
        errors.append({"field": "payload", "message": "must be a JSON object"})
    if "timestamp" in body and not _is_iso8601(body["timestamp"]):
        errors.append({"field": "timestamp", "message": "must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z"})
    errors += [
        {"field": name, "message": "is not allowed"}
        for name in sorted(map(str, body))
        if name not in EVENT_SCHEMA["properties"]
    ]
    return errors


def _is_iso8601(value: Any) -> bool:
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value or len(value) == 10
