"""The runbook's queries over the archive, in Athena's SQL (engine version 3, Trino): saved in the stack's workgroup
as named queries, and run by ``make query NAME=...`` on Athena or, translated by sqlglot, on DuckDB locally.

Each ``?`` is a positional parameter, named in ``parameters`` in order: ``since`` and ``until`` are partition hours
(``'2026/12/01/00'``, see ``log_tables.PARTITION``), ``id`` an API Gateway request id. Every query bounds
``datehour`` first: that is what keeps Athena from reading the whole archive (partition projection turns the
bounds into the few S3 prefixes of those hours). The SQL stays in what Trino and DuckDB share once sqlglot has
translated the function names (``approx_percentile``, ``from_unixtime``, ``from_iso8601_timestamp``, ``count_if``,
``nullif``, ``||``); tests/test_log_query.py parses every query in both dialects and runs it on DuckDB.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

# Every table's time, as a timestamp with time zone, so lines of different sources sort together.
ACCESS_TIME = "from_unixtime(TRY_CAST(request_time_epoch AS bigint) / 1000.0)"
FUNCTION_TIME = "from_iso8601_timestamp(ts)"
NO_TIME = "CAST(NULL AS timestamp(3) with time zone)"
HOURS = "datehour BETWEEN ? AND ?"
# Who called: the token's app client, else the signing IAM principal, else the API key's id.
CALLER = "coalesce(nullif(caller_client_id, '-'), nullif(caller_arn, '-'), 'api key ' || api_key_id)"


@dataclass(frozen=True)
class SavedQuery:
    """One named query: what it answers, its SQL, its parameters and the tables it needs."""

    name: str
    description: str
    sql: str
    parameters: tuple[str, ...]
    tables: tuple[str, ...]
    """A stack whose archive lacks one of these tables (no WAF in local) does not get the query."""


FUNCTION_TABLE_PREFIX = "function_"
# The tables of a stack with one route group and WAF, over which QUERY_NAMES lists every query.
ALL_TABLES = ("function_api", "api_access", "api_execution", "waf")


def _function_errors(table: str) -> str:
    return f"""  SELECT {FUNCTION_TIME} AS at, '{table}' AS source, correlation_id AS request_id,
         coalesce(level, platform_type) || ' ' || coalesce(message, platform_record, '') AS detail
  FROM {table}
  WHERE {HOURS} AND (level IN ('ERROR', 'CRITICAL') OR platform_type IS NOT NULL)"""


def _function_lines(table: str) -> str:
    return f"""  SELECT {FUNCTION_TIME}, '{table}', level || ' ' || message
  FROM {table}
  WHERE {HOURS} AND correlation_id = ?"""


def _union(parts: list[str]) -> str:
    return "\n  UNION ALL\n".join(parts)


def saved_queries(tables: Collection[str]) -> tuple[SavedQuery, ...]:
    """The runbook's queries over a stack's ``tables``, those whose tables it has (no ``waf-blocks`` without a WAF
    table). ``errors`` and ``request-by-id`` read every route group's function table (``function_<group>``), so a
    new group's lines are in them without editing a query."""
    functions = sorted(t for t in tables if t.startswith(FUNCTION_TABLE_PREFIX))
    queries = (*_across_functions(functions), *_API_QUERIES)
    return tuple(q for q in queries if set(q.tables) <= set(tables))


def _across_functions(functions: list[str]) -> tuple[SavedQuery, ...]:
    if not functions:
        return ()
    access_errors = f"""  SELECT {ACCESS_TIME}, 'api_access', request_id,
         http_method || ' ' || resource_path || ' -> ' || status || ' ' || coalesce(nullif(error_message, '-'), '')
  FROM api_access
  WHERE {HOURS} AND status LIKE '5%'"""
    access_line = f"""  SELECT {ACCESS_TIME} AS at, 'api_access' AS source,
         http_method || ' ' || path || ' -> ' || status || ' in ' || response_latency || ' ms, caller '
           || {CALLER} AS line
  FROM api_access
  WHERE {HOURS} AND request_id = ?"""
    execution_line = f"""  SELECT {NO_TIME}, 'api_execution', message
  FROM api_execution
  WHERE {HOURS} AND request_id = ?"""
    return (
        SavedQuery(
            name="errors",
            description="Errors in a time range: every function's lines at ERROR or above and Lambda platform lines, "
            "and 5xx answers",
            parameters=("since", "until") * (len(functions) + 1),
            tables=(*functions, "api_access"),
            sql=f"""SELECT at, source, request_id, detail FROM (
{_union([*map(_function_errors, functions), access_errors])}
)
ORDER BY at DESC
LIMIT 500""",
        ),
        SavedQuery(
            name="request-by-id",
            description="One request followed across sources by its API Gateway request id (= Powertools' "
            "correlation_id)",
            parameters=("since", "until", "id") * (len(functions) + 2),
            tables=("api_access", *functions, "api_execution"),
            sql=f"""SELECT at, source, line FROM (
{_union([access_line, *map(_function_lines, functions), execution_line])}
)
ORDER BY at NULLS LAST, source""",
        ),
    )


_API_QUERIES = (
    SavedQuery(
        name="status-by-route",
        description="4xx and 5xx answers counted by route, method and status",
        parameters=("since", "until"),
        tables=("api_access",),
        sql=f"""SELECT resource_path AS route, http_method AS method, status, count(*) AS requests
FROM api_access
WHERE {HOURS} AND (status LIKE '4%' OR status LIKE '5%')
GROUP BY resource_path, http_method, status
ORDER BY requests DESC, route, method, status""",
    ),
    SavedQuery(
        name="latency-by-route",
        description="p50 and p99 latency (ms, as API Gateway measured it) per route and method",
        parameters=("since", "until"),
        tables=("api_access",),
        sql=f"""SELECT resource_path AS route, http_method AS method, count(*) AS requests,
       approx_percentile(TRY_CAST(response_latency AS double), 0.5) AS p50_ms,
       approx_percentile(TRY_CAST(response_latency AS double), 0.99) AS p99_ms,
       max(TRY_CAST(response_latency AS double)) AS max_ms,
       approx_percentile(TRY_CAST(integration_latency AS double), 0.99) AS p99_integration_ms
FROM api_access
WHERE {HOURS}
GROUP BY resource_path, http_method
ORDER BY p99_ms DESC, route, method""",
    ),
    SavedQuery(
        name="waf-blocks",
        description="Requests AWS WAF blocked, by rule and client IP",
        parameters=("since", "until"),
        tables=("waf",),
        sql=f"""SELECT terminatingruleid AS rule, httprequest.clientip AS client_ip, httprequest.country AS country,
       count(*) AS blocked
FROM waf
WHERE {HOURS} AND action = 'BLOCK'
GROUP BY terminatingruleid, httprequest.clientip, httprequest.country
ORDER BY blocked DESC, rule, client_ip
LIMIT 100""",
    ),
    SavedQuery(
        name="top-callers",
        description="The busiest callers (app client, IAM principal or API key) with their 4xx and 5xx counts",
        parameters=("since", "until"),
        tables=("api_access",),
        sql=f"""SELECT {CALLER} AS caller,
       count(*) AS requests,
       count_if(status LIKE '4%') AS client_errors,
       count_if(status LIKE '5%') AS server_errors
FROM api_access
WHERE {HOURS}
GROUP BY {CALLER}
ORDER BY requests DESC, caller
LIMIT 50""",
    ),
)

QUERY_NAMES = tuple(q.name for q in saved_queries(ALL_TABLES))
"""Every query's name, in the order ``make query LIST=1`` shows them."""
