"""The handler's contract: routes, status codes, JSON error bodies, structured logs and EMF metrics."""

import re
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
VALID = {"type": "order.created", "payload": {"order": 42}}


def test_health_reports_service_and_version(invoke):
    status, body, _ = invoke("GET", "/health")
    assert status == 200
    assert body == {"status": "ok", "service": "serverless-app", "version": "9.9.9"}


def test_accepted_event_gets_an_id_and_one_structured_log_record(invoke):
    status, body, lines = invoke("POST", "/events", {**VALID, "timestamp": "2026-11-24T10:00:00Z"}, request_id="corr-1")
    assert status == 202
    assert re.fullmatch(r"[0-9a-f-]{36}", body["id"])
    (record,) = [line for line in lines if line.get("message") == "event accepted"]
    assert record["level"] == "INFO"
    assert record["event_id"] == body["id"]
    assert record["event_type"] == "order.created"
    assert record["payload"] == {"order": 42}
    assert record["correlation_id"] == "corr-1"
    assert record["service"] == "serverless-app"


def test_accepted_event_emits_an_emf_metric(invoke):
    _, _, lines = invoke("POST", "/events", VALID)
    (emf,) = [line for line in lines if "_aws" in line]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "serverless-app/test"
    assert emf["EventsAccepted"] == [1.0] or emf["EventsAccepted"] == 1.0
    assert emf["service"] == "serverless-app"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["type", "payload"]),
        ({"type": "", "payload": {}}, ["type"]),
        ({"type": "a" * 65, "payload": {}}, ["type"]),
        ({"type": "has space", "payload": {}}, ["type"]),
        ({"type": "ok", "payload": []}, ["payload"]),
        ({"type": "ok", "payload": {}, "timestamp": "yesterday"}, ["timestamp"]),
        ({"type": "ok", "payload": {}, "extra": 1}, ["extra"]),
        ([1, 2], ["(body)"]),
        ("just a string", ["(body)"]),
    ],
)
def test_schema_errors_are_422_listing_every_field(invoke, body, fields):
    import json

    status, answer, _ = invoke("POST", "/events", json.dumps(body))
    assert status == 422
    assert answer["error"] == "validation_failed"
    assert [f["field"] for f in answer["fields"]] == fields


@pytest.mark.parametrize("body", ["not json", "{", "", "{'single': 'quotes'}", "[" * 5000])
def test_non_json_is_400(invoke, body):
    status, answer, _ = invoke("POST", "/events", body)
    assert status == 400 and answer["error"] == "invalid_json"


def test_oversized_body_is_413(invoke):
    status, answer, _ = invoke("POST", "/events", '{"type":"a","payload":{"x":"' + "y" * 262_144 + '"}}')
    assert status == 413 and answer["error"] == "payload_too_large"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain; charset=utf-8"])
def test_a_body_that_is_not_declared_json_is_415_naming_the_allowed_type(invoke, content_type):
    status, answer, _ = invoke("POST", "/events", VALID, headers={"Content-Type": content_type})
    assert status == 415
    assert answer["error"] == "unsupported_media_type" and "send application/json" in answer["message"]
    assert invoke("POST", "/events", VALID, headers={"content-type": "application/json; charset=utf-8"})[0] == 202


def test_unknown_path_is_404_and_wrong_method_is_405(invoke, handler):
    from tools.lambda_runtime import LambdaContext, proxy_event, response_headers

    assert invoke("GET", "/nope")[0] == 404
    answer = handler.lambda_handler(proxy_event("TRACE", "/events"), LambdaContext())
    assert answer["statusCode"] == 405 and ("Allow", "POST") in response_headers(answer)
    status, answer, _ = invoke("DELETE", "/events")
    assert status == 405 and answer["allowed"] == ["POST"]
    assert invoke("POST", "/health")[0] == 405


def test_unexpected_failure_is_logged_as_error_and_answers_500_without_details(invoke, monkeypatch):
    from functions.api import app

    def broken(**_):
        raise ZeroDivisionError

    monkeypatch.setattr(app, "Accepted", broken)
    status, answer, lines = invoke("POST", "/events", VALID)
    assert status == 500 and answer == {"error": "internal_error", "message": "unexpected error"}
    assert any(line.get("level") == "ERROR" for line in lines)
    assert any("ApplicationErrors" in line for line in lines if "_aws" in line)


@pytest.mark.parametrize("body", ["not json", {"type": "ok"}, "x" * 300_000])
def test_every_rejection_is_counted_for_the_dashboard(invoke, body):
    status, _, lines = invoke("POST", "/events", body)
    assert 400 <= status < 500
    (emf,) = [line for line in lines if "_aws" in line]
    assert emf["RejectedEvents"] in ([1.0], 1.0)


def test_bundle_requirements_match_the_dev_environment():
    pinned = dict(
        line.split("==")
        for line in (PROJECT / "functions" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    lock = tomllib.loads((PROJECT / "Pipfile").read_text())
    assert lock["packages"]["aws-lambda-powertools"]["version"] == f"=={pinned['aws-lambda-powertools']}"
    from importlib import metadata

    for name, version in pinned.items():
        assert metadata.version(name) == version, name


CLAIMS = {"sub": "client-1", "client_id": "client-1", "scope": "events/write", "token_use": "access"}


def test_every_line_names_the_caller_from_the_authorizers_claims_never_the_token(invoke):
    token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"
    status, _, lines = invoke("POST", "/events", VALID, claims=CLAIMS, headers={"Authorization": token})
    assert status == 202
    callers = [line["caller"] for line in lines if "caller" in line]
    assert callers and all(
        c
        == {
            "type": "jwt",
            "sub": "client-1",
            "client_id": "client-1",
            "scopes": ["events/write"],
            "token_use": "access",
        }
        for c in callers
    )
    assert not [line for line in lines if token in str(line)]


def test_a_signed_callers_principal_is_logged(invoke):
    principal = {"userArn": "arn:aws:iam::123456789012:role/sender", "accountId": "123456789012"}
    status, _, lines = invoke("POST", "/internal/events", VALID, principal=principal)
    assert status == 202
    (record,) = [line for line in lines if line.get("message") == "event accepted"]
    assert record["caller"] == {"type": "iam", "arn": principal["userArn"], "account": "123456789012"}


def test_whoami_answers_who_the_api_takes_the_caller_for(invoke):
    status, body, _ = invoke("GET", "/whoami", claims={**CLAIMS, "scope": "events/read events/write"})
    assert status == 200
    assert (
        body["type"] == "jwt" and body["client_id"] == "client-1" and body["scopes"] == ["events/read", "events/write"]
    )


def test_a_body_that_is_not_utf8_is_400_not_a_crash(handler):
    from tools.lambda_runtime import LambdaContext, proxy_event

    event = proxy_event("POST", "/events", b"\xf5\xff\x00binary", headers={"Content-Type": "application/json"})
    assert event["isBase64Encoded"] is True
    answer = handler.lambda_handler(event, LambdaContext())
    assert answer["statusCode"] == 400 and '"invalid_json"' in answer["body"]
