"""IAM policy documents as compact JSON, written as Python data so synth-time checks can read them back."""

from __future__ import annotations

import json


def document(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def trust(service: str, condition: dict | None = None) -> str:
    """A role trust policy for one AWS service principal.

    ``condition`` is the confused-deputy guard the service's documentation gives for its role (``sts:ExternalId``
    for Firehose, ``aws:SourceArn`` for CloudWatch Logs, ...). A service whose documentation gives none gets none:
    a condition on a key the service does not send makes every assume fail on AWS, and silently passes on an
    emulator. Each caller says which case it is.
    """
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return document([statement])
