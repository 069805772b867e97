"""The runbook's saved queries: each parses in Athena's and DuckDB's dialects and declares the tables it reads, the
ones over function lines read every route group's table, and their answers on DuckDB over archived objects (as `make
query` runs them locally) and through the Athena path (moto)."""

from __future__ import annotations

import gzip
import json

import boto3
import duckdb
import pytest
import sqlglot
from moto import mock_aws
from sqlglot import exp
from stack_helpers import resources

from modules.api_config import ACCESS_LOG_FORMAT
from modules.saved_queries import ALL_TABLES, saved_queries
from tools import archive_tables, manifest, query
from tools.archive_tables import Table

# prod's tables: two route groups and the release hook; the queries that read function lines read all three.
PROD_TABLES = (*ALL_TABLES, "function_admin", "function_release_hook")
SAVED = {q.name: q for q in saved_queries(PROD_TABLES)}


def _tables_read(sql: str, dialect: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read=dialect)
    return {table.name for table in tree.find_all(exp.Table)}


@pytest.mark.parametrize("saved", SAVED.values(), ids=lambda q: q.name)
def test_every_saved_query_parses_in_both_dialects_and_declares_what_it_reads(saved):
    assert _tables_read(saved.sql, "athena") == set(saved.tables)
    translated = query.to_duckdb(saved.sql)
    assert _tables_read(translated, "duckdb") == set(saved.tables)
    assert saved.sql.count("?") == translated.count("?") == len(saved.parameters)
    # Every query bounds the partition first: what keeps Athena from reading the whole archive.
    assert saved.sql.count("datehour BETWEEN ? AND ?") == len(saved.tables)


def test_the_queries_of_function_lines_read_every_route_groups_table_and_only_what_exists():
    for name in ("errors", "request-by-id"):
        assert {"function_api", "function_admin"} <= set(SAVED[name].tables), name
    one_group = {q.name: q for q in saved_queries(ALL_TABLES)}
    assert "function_admin" not in one_group["errors"].sql and sorted(one_group) == sorted(SAVED)
    # No WAF table, no waf-blocks; no function table, nothing that reads function lines.
    assert "waf-blocks" not in {q.name for q in saved_queries(("function_api", "api_access", "api_execution"))}
    assert {q.name for q in saved_queries(("api_access", "api_execution"))} == {
        "status-by-route",
        "latency-by-route",
        "top-callers",
    }


# --- the saved queries' answers, on DuckDB over archived objects in S3 (moto in-process) ---------------------------

BUCKET = "archive"
HOUR, EARLIER = "2026/12/03/10", "2026/12/03/07"
CLIENT = "app-client-1"


def _access(request_id: str, method: str, route: str, status: int, latency: int, *, client: str = CLIENT) -> str:
    context = {
        "$context.requestId": request_id,
        "$context.requestTimeEpoch": "1796292000000",
        "$context.httpMethod": method,
        "$context.resourcePath": route,
        "$context.path": f"/v1{route}",
        "$context.status": str(status),
        "$context.responseLatency": str(latency),
        "$context.integrationLatency": str(latency - 5),
        "$context.identity.apiKeyId": "key-1",
        "$context.authorizer.claims.client_id": client,
        "$context.error.message": "Internal server error" if status >= 500 else "-",
    }
    return json.dumps({k: context.get(v, "-") for k, v in json.loads(ACCESS_LOG_FORMAT).items()})


def _function(request_id: str, level: str, message: str) -> str:
    return json.dumps(
        {
            "level": level,
            "location": "create_event:120",
            "message": message,
            "timestamp": "2026-12-03T10:00:00.500+00:00",
            "service": "serverless-app",
            "cold_start": False,
            "correlation_id": request_id,
            "caller": {"type": "jwt", "client_id": CLIENT, "scopes": ["events/write"]},
        }
    )


PLATFORM = json.dumps(
    {"time": "2026-12-03T10:00:01.000Z", "type": "platform.runtimeDone", "record": {"status": "timeout"}}
)
WAF = json.dumps(
    {
        "timestamp": 1796292000000,
        "formatVersion": 1,
        "terminatingRuleId": "RateLimit",
        "action": "BLOCK",
        "httpRequest": {"clientIp": "203.0.113.9", "country": "NL", "headers": [], "uri": "/v1/events"},
    }
)
ARCHIVE = {
    "apigateway/app/access": [
        _access("req-a", "POST", "/events", 202, 40),
        _access("req-b", "POST", "/events", 422, 12),
        _access("req-c", "GET", "/health", 200, 8, client="-"),
        _access("req-d", "POST", "/events", 502, 900),
    ],
    "lambda/app-api": [
        _function("req-a", "INFO", "event accepted"),
        _function("req-d", "ERROR", "integration failed"),
        "START RequestId: 1 Version: 7",  # not JSON: a row of NULLs, as OpenX with ignore.malformed.json reads it
        PLATFORM,
    ],
    "lambda/app-admin": [_function("req-e", "ERROR", "deployment unreadable"), _function("req-a", "INFO", "x")],
    "apigateway/app/execution": ["(req-a) Method completed with status: 202", "no request id here"],
    "waf/app": [WAF, WAF],
}


def _glue_table(tf_table: dict, location: str) -> Table:
    descriptor = tf_table["storage_descriptor"]
    return Table.from_glue(
        {
            "Name": tf_table["name"],
            "StorageDescriptor": {
                "Location": location,
                "Columns": [{"Name": c["name"], "Type": c["type"]} for c in descriptor["columns"]],
                "SerdeInfo": {
                    "SerializationLibrary": descriptor["ser_de_info"]["serialization_library"],
                    "Parameters": descriptor["ser_de_info"]["parameters"],
                },
            },
        }
    )


@pytest.fixture(scope="module")
def archived(prod):
    """DuckDB tables built, as `make query` builds them, from prod's synthesized Glue tables and archived objects."""
    by_schema = {}
    for table in resources(prod, "aws_glue_catalog_table").values():
        by_schema.setdefault(table["name"], table)
    sources = {
        "api_access": "apigateway/app/access",
        "function_api": "lambda/app-api",
        "function_admin": "lambda/app-admin",
        "function_release_hook": "lambda/app-release-hook",  # nothing archived in these hours: an empty table
        "api_execution": "apigateway/app/execution",
        "waf": "waf/app",
    }
    tables = [_glue_table(by_schema[name], f"s3://{BUCKET}/logs/{source}/") for name, source in sources.items()]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for source, lines in ARCHIVE.items():
            body = gzip.compress(("\n".join(lines) + "\n").encode())
            s3.put_object(Bucket=BUCKET, Key=f"logs/{source}/{HOUR}/stream-1-{source.replace('/', '-')}", Body=body)
        # An hour outside the bounds: never read.
        s3.put_object(
            Bucket=BUCKET,
            Key=f"logs/apigateway/app/access/{EARLIER}/old",
            Body=gzip.compress(ARCHIVE["apigateway/app/access"][0].encode()),
        )
        connection = duckdb.connect()
        counts = archive_tables.load(connection, tables, s3, since="2026/12/03/09", until="2026/12/03/11")
    assert counts == {
        "api_access": 4,
        "function_api": 4,
        "function_admin": 2,
        "function_release_hook": 0,
        "api_execution": 2,
        "waf": 2,
    }
    return connection


def _answer(connection, name: str, request_id: str | None = None) -> list[tuple]:
    saved = SAVED[name]
    values = query.bind(saved, {"since": "2026/12/03/09", "until": "2026/12/03/11", "id": request_id})
    return connection.execute(query.to_duckdb(saved.sql), values).fetchall()


def test_request_by_id_follows_one_request_across_sources(archived):
    rows = _answer(archived, "request-by-id", "req-a")
    assert [(source, line) for _, source, line in rows] == [
        ("api_access", f"POST /v1/events -> 202 in 40 ms, caller {CLIENT}"),
        ("function_admin", "INFO x"),
        ("function_api", "INFO event accepted"),
        ("api_execution", "Method completed with status: 202"),
    ]


def test_status_by_route_counts_client_and_server_errors(archived):
    assert _answer(archived, "status-by-route") == [("/events", "POST", "422", 1), ("/events", "POST", "502", 1)]


def test_latency_by_route_gives_percentiles_per_route(archived):
    rows = {(route, method): rest for route, method, *rest in _answer(archived, "latency-by-route")}
    requests, p50, p99, worst, _ = rows[("/events", "POST")]
    assert requests == 3 and worst == 900.0 and 12 <= p50 <= 900 and p99 >= p50
    assert rows[("/health", "GET")][0] == 1


def test_errors_has_error_lines_platform_failures_and_5xx(archived):
    rows = _answer(archived, "errors")
    assert {(source, request_id) for _, source, request_id, _ in rows} == {
        ("function_api", "req-d"),
        ("function_api", None),
        ("function_admin", "req-e"),
        ("api_access", "req-d"),
    }
    details = {detail for *_, detail in rows}
    assert "ERROR integration failed" in details and 'platform.runtimeDone {"status":"timeout"}' in details


def test_top_callers_and_waf_blocks(archived):
    assert _answer(archived, "top-callers") == [(CLIENT, 3, 1, 1), ("api key key-1", 1, 0, 0)]
    assert _answer(archived, "waf-blocks") == [("RateLimit", "203.0.113.9", "NL", 2)]


def test_hive_types_become_duckdb_types_and_bad_ones_are_named():
    parsed = archive_tables.parse_type("array<struct<name:string,value:string>>")
    assert parsed.duckdb == 'STRUCT("name" VARCHAR, "value" VARCHAR)[]'
    assert archive_tables.parse_type("struct<a:bigint,b:array<int>>").duckdb == 'STRUCT("a" BIGINT, "b" INTEGER[])'
    with pytest.raises(ValueError, match=r"map<string,string>.*allowed string"):
        archive_tables.parse_type("map<string,string>")
    with pytest.raises(ValueError, match="unexpected"):
        archive_tables.parse_type("string>")


def _stack(synth, environment: str) -> manifest.Stack:
    return manifest.find(environment, synth.outdir)


def test_the_query_tool_reads_each_saved_query_and_its_parameters_from_the_synthesized_stack(synth):
    synthesized = query.saved_queries(_stack(synth, "prod"))
    assert synthesized == {q.name: query.SavedQuery(q.name, q.description, q.sql, q.parameters) for q in SAVED.values()}
    # local saves no named queries (the emulator cannot delete them) and has no WAF table; the tool still has the rest.
    assert sorted(query.saved_queries(_stack(synth, "local"))) == sorted(name for name in SAVED if name != "waf-blocks")


def test_query_arguments_are_checked_before_anything_runs(synth):
    saved = SAVED["request-by-id"]
    with pytest.raises(query.QueryError, match=r"NAME=request-by-id needs ID="):
        query.bind(saved, {"since": "a", "until": "b", "id": None})
    with pytest.raises(query.QueryError, match="allowed a duration"):
        query.hour("yesterday", query.datetime.now(query.UTC))
    assert query.hour("2026-12-03T08", query.datetime.now(query.UTC)) == "2026/12/03/08"
    queries = query.saved_queries(_stack(synth, "local"))
    with pytest.raises(
        query.QueryError, match=r"NAME='nope' is invalid: allowed errors, request-by-id, status-by-route, .*WAF"
    ):
        query.saved_query("nope", queries, "local")
    with pytest.raises(query.QueryError, match="NAME='waf-blocks' is invalid"):
        query.saved_query("waf-blocks", queries, "local")
    assert query.athena_literal("it's") == "'it''s'"


def test_the_athena_path_runs_in_the_workgroup_and_bills_at_least_10_mb():
    # moto's in-process Athena: it checks the request's shape (botocore) and answers with no rows.
    said = []
    with mock_aws():
        athena = boto3.client("athena", region_name="us-east-1")
        athena.create_work_group(Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/q/"}})
        saved = SAVED["status-by-route"]
        parameters = query.bind(saved, {"since": "2026/12/03/00", "until": "2026/12/03/01"})
        assert query.run_athena(athena, saved.sql, parameters, database="d", workgroup="wg", progress=said.append) == (
            [],
            [],
        )
        (execution,) = athena.list_query_executions(WorkGroup="wg")["QueryExecutionIds"]
        assert athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Query"] == saved.sql
    assert said[-1].startswith("scanned 0 B in ") and "$0.000052 ($5 per TB, 10 MB minimum)" in said[-1]
