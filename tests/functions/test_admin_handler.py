"""The admin route group's handler: its one signed read, JSON 404/405 like the API's, the signer in every line."""

from __future__ import annotations

import json
import sys

import pytest

from tools.lambda_runtime import LambdaContext, proxy_event, response_headers

PRINCIPAL = {"userArn": "arn:aws:iam::123456789012:role/operator", "accountId": "123456789012"}


@pytest.fixture
def call(capsys, monkeypatch):
    monkeypatch.setenv("SERVICE_VERSION", "2.3.4")
    from functions.admin import handler

    def invoke(method: str, path: str) -> tuple[int, dict, dict, list[dict]]:
        handler.logger.registered_handler.stream = sys.stdout
        event = proxy_event(method, path, resource=path, principal=PRINCIPAL)
        response = handler.lambda_handler(event, LambdaContext(function_name="serverless-app-test-admin"))
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
        return response["statusCode"], json.loads(response["body"]), dict(response_headers(response)), lines

    return invoke


def test_the_deployment_read_names_the_function_and_version(call):
    status, body, _, lines = call("GET", "/admin/deployment")
    assert status == 200
    assert body["status"] == "ok" and body["version"] == "2.3.4"
    assert body["function_name"] == "serverless-app-test-admin"
    assert set(body) == {"status", "service", "version", "function_name", "function_version"}
    assert [line["message"] for line in lines] == ["deployment read"]
    assert lines[0]["caller"] == {"type": "iam", "arn": PRINCIPAL["userArn"], "account": "123456789012"}


def test_another_method_is_405_with_allow_and_another_path_404(call):
    status, body, headers, _ = call("DELETE", "/admin/deployment")
    assert (status, body["error"], headers.get("Allow")) == (405, "method_not_allowed", "GET")
    status, body, _, _ = call("GET", "/admin/secrets")
    assert (status, body) == (404, {"error": "not_found", "message": "no route for /admin/secrets"})
