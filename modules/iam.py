"""IAM policy documents as compact JSON, written as Python data so synth-time checks can read them back."""

from __future__ import annotations

import json


def document(statements: list[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def trust(service: str, condition: dict) -> str:
    """A role trust policy for one AWS service principal, always with a confused-deputy condition."""
    return document(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole", "Condition": condition}]
    )
