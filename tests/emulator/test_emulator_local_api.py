"""The local runner in front of the packaged handler: keys, errors, and N concurrent events all archived."""

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tools import archive, logs
from tools.local_api import LocalApi, TokenBucket
from tools.processes import free_port


@pytest.fixture(scope="module")
def api(deployed):
    runner = LocalApi(free_port()).start()
    yield runner
    runner.stop()


def _call(api, method, path, body=None, key="default"):
    key = next(iter(api.api_keys)) if key == "default" else key
    request = urllib.request.Request(
        api.url + path,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json", **({"x-api-key": key} if key else {})},
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
        status, body, _ = api.handle("GET", "/v1/health", {}, b"", key)
        assert status == 429 and json.loads(body)["message"] == "Too Many Requests"
    finally:
        api.key_buckets.pop(key)
