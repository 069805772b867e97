"""`make query` on the emulator's archive: requests made through the local API, shipped by the emulator's
subscriptions and Firehose into the bucket, then found by every saved query through the deployed Glue tables."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from modules.saved_queries import QUERY_NAMES
from tools import archive, query, tokens
from tools.aws import emulator_client
from tools.local_api import LocalApi
from tools.processes import free_port


@pytest.fixture(scope="module")
def requests_made(deployed):
    """Two requests through the local API (one accepted, one refused by the function with a 422), archived in both
    the access log and the function log; their request ids."""
    runner = LocalApi(free_port()).start()
    key, key_id = next(iter(runner.api_keys.items()))
    token = tokens.token("local", name="tests")
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    ids = {}
    try:
        for name, body in (
            ("accepted", {"type": "query.test", "payload": {"n": 1}}),
            ("refused", {"type": "query.test", "payload": {}, "timestamp": "yesterday"}),
        ):
            request = urllib.request.Request(
                f"{runner.url}/events",
                method="POST",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "x-api-key": key, "Authorization": token},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, request_id = response.status, response.headers["x-amzn-RequestId"]
            except urllib.error.HTTPError as error:
                status, request_id = error.code, error.headers["x-amzn-RequestId"]
            ids[name] = (status, request_id)
    finally:
        runner.stop()  # flushes both log forwarders
    assert [status for status, _ in ids.values()] == [202, 422]
    # The local API cannot make the function fail; a line at ERROR, as Powertools writes it, goes the same way
    # (the function's log group, its subscription, Firehose, the bucket).
    failed = str(uuid.uuid4())
    line = {"level": "ERROR", "message": "unhandled error", "timestamp": "2026-12-03T10:00:00.000+00:00"}
    emulator_client("logs").put_log_events(
        logGroupName=str(runner.spec.primary.log_group),
        logStreamName=runner.function_stream,
        logEvents=[{"timestamp": int(time.time() * 1000), "message": json.dumps(line | {"correlation_id": failed})}],
    )
    bucket = str(deployed.outputs["log_bucket_name"])
    for _, request_id in ids.values():
        for source in ("apigateway", "lambda"):
            assert archive.find_archived(bucket, request_id, prefix=f"logs/{source}/", timeout_seconds=60), source
    assert archive.find_archived(bucket, failed, prefix="logs/lambda/", timeout_seconds=60)
    return {name: request_id for name, (_, request_id) in ids.items()} | {
        "failed": failed,
        "client_id": claims["client_id"],
        "key_id": key_id,
    }


def _query(capsys, **arguments) -> list[dict[str, str]]:
    options = {
        "name": None,
        "sql": None,
        "since": "1h",
        "until": None,
        "request_id": None,
        "as_csv": True,
        "list_only": False,
    }
    assert query.run("local", **(options | arguments)) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_request_by_id_finds_the_request_in_the_access_and_the_function_log(requests_made, capsys):
    rows = _query(capsys, name="request-by-id", request_id=requests_made["accepted"])
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row["line"])
    assert sorted(by_source) == ["api_access", "function_api"]
    (access,) = by_source["api_access"]
    assert access.startswith("POST /v1/events -> 202 in ") and ", caller " in access
    assert "INFO event accepted" in by_source["function_api"]
    # The other request's lines are not this one's.
    assert all(requests_made["refused"] not in line for line in by_source["function_api"])


def test_the_access_line_has_every_column_of_the_stage_format(requests_made, capsys):
    (row,) = _query(
        capsys,
        sql="SELECT * FROM api_access WHERE datehour >= '2026/01/01/00' AND request_id = "
        f"'{requests_made['accepted']}'",
    )
    assert row["resource_path"] == "/events" and row["http_method"] == "POST" and row["status"] == "202"
    assert row["request_time_epoch"].isdigit() and row["caller_client_id"] == requests_made["client_id"]
    assert row["api_key_id"] == requests_made["key_id"] and row["caller_scopes"] != "-"
    # API Gateway writes "-" for a variable without a value; no column is missing from the line.
    assert all(value != "" for value in row.values()), [name for name, value in row.items() if value == ""]


def test_a_refused_request_shows_in_the_counts_by_route_and_status(requests_made, capsys):
    rows = _query(capsys, name="status-by-route")
    counts = {(r["route"], r["method"], r["status"]): int(r["requests"]) for r in rows}
    assert counts.get(("/events", "POST", "422"), 0) >= 1
    assert all(status.startswith(("4", "5")) for _, _, status in counts)


def test_every_saved_query_of_the_stack_runs_on_the_local_archive(requests_made, capsys):
    client_id = requests_made["client_id"]
    answers = {}
    for name in QUERY_NAMES:
        if name == "waf-blocks":  # local ships no WAF logs (no web ACL on the emulator): no table
            with pytest.raises(query.QueryError, match="NAME='waf-blocks' is invalid"):
                _query(capsys, name=name)
            continue
        answers[name] = _query(capsys, name=name, request_id=requests_made["accepted"])
    latency = {(r["route"], r["method"]): r for r in answers["latency-by-route"]}
    assert int(latency[("/events", "POST")]["requests"]) >= 2 and float(latency[("/events", "POST")]["p99_ms"]) >= 0
    callers = {r["caller"]: r for r in answers["top-callers"]}
    assert int(callers[client_id]["requests"]) >= 2 and int(callers[client_id]["client_errors"]) >= 1
    errors = {(r["source"], r["request_id"]): r["detail"] for r in answers["errors"]}
    assert errors[("function_api", requests_made["failed"])] == "ERROR unhandled error"
    assert not any(requests_made["accepted"] in request_id for _, request_id in errors)


def test_own_sql_runs_on_the_same_tables(requests_made, capsys):
    rows = _query(
        capsys,
        sql="SELECT message, status FROM function_api WHERE datehour >= '2026/01/01/00' AND correlation_id = "
        f"'{requests_made['refused']}'",
    )
    # The function's line of a refused request, with the status it answered.
    assert rows == [{"message": "request rejected", "status": "422"}]
