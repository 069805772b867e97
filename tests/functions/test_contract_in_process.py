"""schemathesis against the handler in-process: every documented operation, fuzzed with valid and invalid
input, answers as docs/openapi.json says (status codes, content types, response bodies), and never 5xx.

The unit loop's run: a fixed seed and few examples. tests/emulator/test_emulator_contract.py runs the same
document against the local API on the deployed emulator stack, where API Gateway's part (keys, throttle,
request models) is in the path too.
"""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from stacks.contract import DOCUMENT
from tools.lambda_runtime import LambdaContext, proxy_event, response_headers
from tools.local_api import match_route

CONTRACT = json.loads(DOCUMENT.read_text())
# Templates API Gateway matches: the document's paths; anything else reaches the function through /{proxy+}.
TEMPLATES = [*CONTRACT["paths"], "/{proxy+}"]


def wsgi_app(environ, start_response):
    """The handler behind a WSGI interface, each request turned into the proxy event API Gateway sends.

    API Gateway's key check stands in as a presence check (the key's value is checked on the emulator run)."""
    from functions.api import handler

    if not environ.get("HTTP_X_API_KEY"):
        start_response("403 Forbidden", [("Content-Type", "application/json")])
        return [b'{"error":"request_rejected","message":"Forbidden"}']

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    path = environ.get("PATH_INFO") or "/"
    query = environ.get("QUERY_STRING")
    resource, parameters = match_route(TEMPLATES, path) or ("/{proxy+}", {})
    event = proxy_event(
        environ["REQUEST_METHOD"],
        f"{path}?{query}" if query else path,
        body,
        headers=headers,
        resource=resource,
        path_parameters=parameters or None,
    )
    result = handler.lambda_handler(event, LambdaContext())
    status = result["statusCode"]
    start_response(f"{status} {HTTPStatus(status).phrase}", response_headers(result))
    return [(result.get("body") or "").encode()]


schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
schema.app = wsgi_app


@pytest.mark.contract
@schema.parametrize()
@seed(20261124)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_handler_honours_the_contract(case):
    # Only the key's presence is checked here: a wrong key is refused by API Gateway (the emulator run).
    from schemathesis.specs.openapi.checks import ignored_auth

    case.call_and_validate(excluded_checks=[ignored_auth])
