"""The local runner in front of the packaged handler: keys, errors, and N concurrent events all archived."""

import functools
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools import archive, logs, tokens
from tools.local_api import LocalApi, TokenBucket
from tools.processes import free_port


@pytest.fixture(scope="module")
def api(deployed):
    runner = LocalApi(free_port()).start()
    yield runner
    runner.stop()


@functools.cache
def _client_token() -> str:
    """The test client's token, signed once for the module: each signing reads the stack's outputs (a Terraform run)."""
    return tokens.token("local", name="tests")


@pytest.fixture(scope="module")
def token(deployed):
    return _client_token()


def _call(api, method, path, body=None, *, key="default", token=None, headers=None):
    key = next(iter(api.api_keys)) if key == "default" else key
    if token is None and not path.startswith(("/health", "/internal/")):
        token = _client_token()
    request = urllib.request.Request(
        api.url + path,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={
            "Content-Type": "application/json",
            **({"x-api-key": key} if key else {}),
            **({"Authorization": token} if token else {}),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_api_key_is_required(api):
    assert _call(api, "GET", "/health", key=None) == (403, {"error": "request_rejected", "message": "Forbidden"})
    assert _call(api, "GET", "/health", key="wrong")[0] == 403
    status, body = _call(api, "GET", "/health")
    assert status == 200 and body["service"] == "serverless-app"


def test_bad_requests_get_json_4xx(api):
    assert _call(api, "GET", "/nowhere")[0] == 404
    assert _call(api, "DELETE", "/events")[0] == 405
    # Refused by the method's request model, as API Gateway refuses it (the function never runs)...
    status, body = _call(api, "POST", "/events", {"type": ""})
    assert status == 422 and body["message"] == "Invalid request body" and body["fields"][0]["field"] == "(body)"
    # ...and what the model cannot say (a date-time's syntax) is the function's 422, naming the field.
    status, body = _call(api, "POST", "/events", {"type": "a", "payload": {}, "timestamp": "yesterday"})
    assert status == 422 and [f["field"] for f in body["fields"]] == ["timestamp"]


def test_concurrent_events_are_all_accepted_and_all_archived(api, deployed):
    count = 40
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda n: _call(api, "POST", "/events", {"type": "load.test", "payload": {"n": n}}), range(count))
        )
    assert [status for status, _ in answers] == [202] * count
    ids = {body["id"] for _, body in answers}
    assert len(ids) == count
    bucket = str(deployed.outputs["log_bucket_name"])
    deadline = time.monotonic() + 30
    archived: set[str] = set()
    seen: set[str] = set()
    while time.monotonic() < deadline and archived != ids:
        for _, text in archive.archived_texts(bucket, "logs/lambda/serverless-app-local-api/", seen):
            archived |= {i for i in ids if i in text}
        time.sleep(0.5)
    assert archived == ids, f"{len(ids - archived)} of {count} events missing from the archive"
    assert archive.find_archived(bucket, next(iter(ids)), timeout_seconds=1)
    # What an operator reads: `make logs` from CloudWatch Logs, `make archive` from the bucket.
    some = sorted(ids)[0]
    lines: list[str] = []
    assert (
        logs.run("local", since="10m", pattern=f'"{some}"', group="/aws/lambda/", follow=False, out=lines.append) == 0
    )
    (line,) = lines
    assert "/aws/lambda/serverless-app-local-api" in line and some in line
    lines.clear()
    assert (
        archive.run(
            "local", source="lambda/serverless-app-local-api", since="10m", grep=some, list_only=False, out=lines.append
        )
        == 0
    )
    assert len(lines) == 1 and json.loads(lines[0].split(": ", 1)[1])["event_id"] == some


def test_runner_answers_429_when_the_usage_plan_is_exhausted(api):
    key = next(iter(api.api_keys))
    api.key_buckets[key] = TokenBucket(rate=0.001, burst=1)
    try:
        assert api.handle("GET", "/v1/health", {}, b"", key)[0] == 200
        status, body, _, _ = api.handle("GET", "/v1/health", {}, b"", key)
        assert status == 429 and json.loads(body)["message"] == "Too Many Requests"
    finally:
        api.key_buckets.pop(key)


def test_the_token_decides_who_gets_in_as_api_gateways_cognito_authorizer_would(api, deployed):
    """Tokens the emulator's Cognito issued or that are signed with the key its pool publishes, checked against the
    JWKS the emulator serves: 401 for no, a malformed, an expired, a foreign or a wrongly signed token; 403 for a
    valid one without the scope; the caller the function sees is the token's client."""
    from joserfc import jwk

    identity = json.loads(deployed.outputs["identity_settings"])
    claims = tokens.client_credentials_claims(
        identity["issuer"], deployed.credentials["client_id"], ["events/write"], 60
    )
    event = {"type": "auth.test", "payload": {}}
    refused = {
        "none": None,
        "malformed": "not.a.token",
        "expired": tokens.sign({**claims, "exp": claims["iat"] - 1}),
        "foreign issuer": tokens.sign({**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"}),
        "wrongly signed": tokens.sign(claims, jwk.RSAKey.generate_key(2048)),
    }
    for case, value in refused.items():
        status, body = _call(api, "POST", "/events", event, token=value or "")
        assert (status, body["error"]) == (401, "unauthorized"), case
    # The emulator's own Cognito signs a user in: a valid token, with only Cognito's own scope.
    status, body = _call(api, "POST", "/events", event, token=tokens.token("local", user=True))
    assert status == 403 and "none of the scopes" in body["message"]
    read_only = tokens.token("local", name="tests", scopes=["events/read"])
    assert _call(api, "POST", "/events", event, token=read_only)[0] == 403
    assert _call(api, "GET", "/whoami", token=read_only) == (
        200,
        {
            "type": "jwt",
            "sub": deployed.credentials["client_id"],
            "client_id": deployed.credentials["client_id"],
            "scopes": ["events/read"],
            "token_use": "access",
            "arn": None,
            "account": None,
            "api_key_id": None,
        },
    )
    # A token is not a key: the usage plan still meters the caller.
    assert _call(api, "POST", "/events", event, key=None)[0] == 403
    # The archived access log names the caller (its app client), never the token.
    bucket = str(deployed.outputs["log_bucket_name"])
    deadline, seen, found = time.monotonic() + 30, set(), []
    while time.monotonic() < deadline and not found:
        for _, text in archive.archived_texts(bucket, "logs/apigateway/serverless-app-local/access/", seen):
            found += [line for line in text.splitlines() if deployed.credentials["client_id"] in line]
        time.sleep(0.5)
    assert found and "callerScopes" in found[0] and read_only not in "".join(found)


def test_a_signed_request_reaches_the_signed_method_and_an_unsigned_one_does_not(api):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"type": "service.event", "payload": {"from": "billing"}}).encode()
    url = api.url + "/internal/events"
    signed = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(signed)
    request = urllib.request.Request(url, method="POST", data=body, headers=dict(signed.headers.items()))
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
    status, answer = _call(api, "POST", "/internal/events", {"type": "x", "payload": {}}, key=None)
    assert status == 403 and answer["message"] == "Missing Authentication Token"


def test_each_route_group_answers_its_own_paths_in_its_own_log_group(api, deployed):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = api.url + "/admin/deployment"
    signed = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(signed)
    request = urllib.request.Request(url, method="GET", headers=dict(signed.headers.items()))
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
        request_id = response.headers["x-amzn-RequestId"]
    # The admin group's function answered (its own name and service), not the api group's.
    assert answer["function_name"] == "serverless-app-local-admin"
    assert answer["service"] == "serverless-app-admin" and answer["status"] == "ok"
    status, missing = _call(api, "GET", "/admin/deployment", key=None)
    assert status == 403 and missing["message"] == "Missing Authentication Token"
    status, unknown = _call(api, "GET", "/no-such-path")
    assert status == 404 and unknown["error"] == "not_found"  # the first group answers undeclared paths
    # Its lines reach its own log group (shipped in the background, within a fraction of a second).
    client, records = deployed.client("logs"), []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r.get("correlation_id") == request_id for r in records):
        time.sleep(0.3)
        events = client.filter_log_events(logGroupName="/aws/lambda/serverless-app-local-admin")["events"]
        records = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
    assert any(r.get("correlation_id") == request_id for r in records), records[-3:]


def test_a_browser_preflight_is_answered_for_the_configured_origin_only(api):
    def preflight(origin):
        request = urllib.request.Request(
            api.url + "/events",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers.items())

    status, headers = preflight("http://localhost:3000")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert (
        headers["Access-Control-Allow-Methods"] == "OPTIONS,POST"
        and "Authorization" in headers["Access-Control-Allow-Headers"]
    )
    status, headers = preflight("https://evil.example")
    assert status == 204 and "Access-Control-Allow-Origin" not in headers
    # The function's answers and the stage's own errors carry the header too, so the browser can read both.
    request = urllib.request.Request(
        api.url + "/events", method="POST", data=b"{}", headers={"Origin": "http://localhost:3000"}
    )
    try:
        urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        assert error.code == 401 and error.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    status, _ = _call(api, "GET", "/whoami", headers={"Origin": "http://localhost:3000"})
    assert status == 200
