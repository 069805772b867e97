"""Handler fixtures: the module under test, configured as the stack configures it, invoked with a Lambda context."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from tools.lambda_runtime import LambdaContext, proxy_event


@pytest.fixture(scope="session")
def handler():
    from functions.api import handler

    return handler


@pytest.fixture
def invoke(handler, capsys):
    def call(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, dict, list[dict]]:
        raw = body if isinstance(body, str) or body is None else json.dumps(body)
        # Powertools bound its handler to the stdout of import time; point it at this test's captured stdout.
        handler.logger.registered_handler.stream = sys.stdout
        response = handler.lambda_handler(proxy_event(method, path, raw, **kwargs), LambdaContext())
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        return response["statusCode"], json.loads(response["body"]), lines

    return call
