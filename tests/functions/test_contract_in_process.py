"""schemathesis against the handler in-process: every documented operation, fuzzed with valid and invalid
input, answers as docs/openapi.json says (status codes, content types, response bodies), and never 5xx.

The unit loop's run: a fixed seed and few examples. tests/emulator/test_emulator_contract.py runs the same
document against the local API on the deployed emulator stack, where API Gateway's part (keys, throttle,
request models) is in the path too.
"""

from __future__ import annotations

import importlib
import json
from http import HTTPStatus

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from modules.openapi import operations
from stacks.contract import DOCUMENT, route_owners
from stacks.environments import ROUTE_GROUPS
from tools.lambda_runtime import LambdaContext, proxy_event, response_headers
from tools.local_api import match_route

CONTRACT = json.loads(DOCUMENT.read_text())
# Templates API Gateway matches: the document's paths; anything else reaches the function through /{proxy+}.
TEMPLATES = [*CONTRACT["paths"], "/{proxy+}"]


ACCESS = {(op.method, op.path): op.access for op in operations(CONTRACT)}
# Which route group's handler serves each path (the first group's answers the others, as API Gateway sends them).
OWNERS = route_owners({name: name for name in ROUTE_GROUPS})


def _refuse(start_response, status: str, error: str, message: str) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps({"error": error, "message": message}).encode()]


def wsgi_app(environ, start_response):
    """The handler behind a WSGI interface, each request turned into the proxy event API Gateway sends.

    API Gateway's checks stand in as presence checks, per the operation's security: a token (401 without one), a
    signature (403 without one), the key (403 without it). Their values are checked on the emulator run, by the
    local API's authorizers, and in the JWT verification table (tests/test_authorizers.py)."""
    access = ACCESS.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"))
    claims = principal = None
    if access and access.authorization == "COGNITO_USER_POOLS":
        if not environ.get("HTTP_AUTHORIZATION"):
            return _refuse(start_response, "401 Unauthorized", "unauthorized", "Unauthorized")
        claims = {"sub": "c1", "client_id": "c1", "scope": " ".join(access.scopes), "token_use": "access"}
    if access and access.authorization == "AWS_IAM":
        if not environ.get("HTTP_AUTHORIZATION"):
            return _refuse(start_response, "403 Forbidden", "request_rejected", "Missing Authentication Token")
        principal = {"userArn": "arn:aws:iam::123456789012:role/caller", "accountId": "123456789012"}
    if (access is None or access.api_key_required) and not environ.get("HTTP_X_API_KEY"):
        return _refuse(start_response, "403 Forbidden", "request_rejected", "Forbidden")

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
        claims=claims,
        principal=principal,
    )
    package = OWNERS.get(resource, next(iter(ROUTE_GROUPS)))
    handler = importlib.import_module(f"functions.{package}.handler")
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
    # Only presence is checked here: a wrong token, signature or key is refused by API Gateway (the emulator run).
    from schemathesis.specs.openapi.checks import ignored_auth, missing_required_header

    excluded = [ignored_auth]
    if ACCESS[(case.operation.method.upper(), case.operation.path)].authorization == "AWS_IAM":
        # API Gateway answers an unsigned call to a signed method 403 (Missing Authentication Token), not 401.
        excluded.append(missing_required_header)
    case.call_and_validate(excluded_checks=excluded)
