"""Ask the archive: a saved query (or your own SQL) on Athena for a real account, or on DuckDB for the emulator.

``make query ENV=… NAME=<saved query> [SINCE=1h] [UNTIL=…] [ID=…] [CSV=1]``, ``make query SQL='SELECT …'`` and
``make query LIST=1`` (``python -m tools.query [ENV] --name … | --sql … | --list``). The SQL is Athena's (engine
version 3); on the emulator sqlglot translates it to DuckDB's and runs it over the archive's objects, read from
the emulator's S3 into tables built from the deployed Glue tables (tools/archive_tables.py).

``SINCE`` and ``UNTIL`` are a duration back from now (``30m``, ``2h``, ``7d``) or an hour (``2026-12-03T08``,
``2026/12/03/08``); they become the ``datehour`` bounds that keep Athena's scan to those hours.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tools import archive_tables, manifest
from tools.aws import clients_for
from tools.logs import parse_since
from tools.manifest import StackError

# Athena's price in us-east-1: $5 per TB scanned, at least 10 MB per query.
DOLLARS_PER_TB = 5.0
MIN_BILLED_BYTES = 10 * 1024 * 1024
HOUR = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})[T/ ](\d{2})")
POLL_SECONDS = 1.0


class QueryError(ValueError):
    """A query that cannot run as asked (named in the message), or one Athena failed or cancelled."""


@dataclass(frozen=True)
class SavedQuery:
    """A named query of the stack, as synthesized: its SQL and the names of its ``?`` parameters, in order."""

    name: str
    description: str
    sql: str
    parameters: tuple[str, ...]


def saved_queries(stack: manifest.Stack) -> dict[str, SavedQuery]:
    """The stack's saved queries by name, from its synthesized ``saved_queries`` output (the same queries as its
    Athena named queries, where it saves them)."""
    output = stack.tf.get("output", {}).get("saved_queries")
    if output is None:
        raise StackError(f"{stack.name} has no saved_queries output: synthesize it again (`make synth`)")
    return {
        name: SavedQuery(name, query["description"], query["sql"], tuple(query["parameters"]))
        for name, query in json.loads(output["value"]).items()
    }


def hour(text: str, now: datetime) -> str:
    """``YYYY/MM/DD/HH`` of a duration back from ``now`` or of an hour given as ``YYYY-MM-DDTHH``."""
    found = HOUR.fullmatch(text.strip())
    if found:
        return "/".join(found.groups())
    try:
        seconds = parse_since(text)
    except ValueError:
        raise QueryError(
            f"SINCE/UNTIL={text!r} is invalid: allowed a duration (30m, 2h, 7d) or an hour (2026-12-03T08)"
        ) from None
    return (now - timedelta(seconds=seconds)).strftime("%Y/%m/%d/%H")


def bind(query: SavedQuery, values: dict[str, str | None]) -> list[str]:
    """The query's positional parameters, in order; every one it needs must be given."""
    missing = sorted({name for name in query.parameters if not values.get(name)})
    if missing:
        flags = ", ".join(f"{name.upper()}=…" for name in missing)
        raise QueryError(
            f"NAME={query.name} needs {flags} (its parameters: {', '.join(dict.fromkeys(query.parameters))})"
        )
    return [str(values[name]) for name in query.parameters]


def athena_literal(value: str) -> str:
    """An Athena execution parameter: a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def to_duckdb(sql: str) -> str:
    import sqlglot  # only the local path needs it

    (translated,) = sqlglot.transpile(sql, read="athena", write="duckdb")
    return translated


def run_local(
    sql: str, parameters: Sequence[str], *, bucket_tables, s3, since: str, until: str, progress: Callable[[str], None]
) -> tuple[list[str], list[tuple]]:
    """Run Athena SQL on DuckDB over the archive's objects of the hours ``since``..``until``."""
    import duckdb  # only the local path needs it

    connection = duckdb.connect()
    started = time.monotonic()
    archive_tables.load(connection, bucket_tables, s3, since=since, until=until, progress=progress)
    progress(f"read the archive's {since}..{until} in {time.monotonic() - started:.1f} s; running on DuckDB")
    cursor = connection.execute(to_duckdb(sql), list(parameters))
    return [column[0] for column in cursor.description], cursor.fetchall()


def run_athena(
    athena, sql: str, parameters: Sequence[str], *, database: str, workgroup: str, progress: Callable[[str], None]
) -> tuple[list[str], list[tuple]]:
    """Run the SQL in the workgroup, reporting progress, then the data scanned and its cost."""
    request: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "WorkGroup": workgroup,
    }
    if parameters:
        request["ExecutionParameters"] = [athena_literal(p) for p in parameters]
    query_id = athena.start_query_execution(**request)["QueryExecutionId"]
    started = time.monotonic()
    try:
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state, scanned = execution["Status"]["State"], execution.get("Statistics", {}).get("DataScannedInBytes", 0)
            progress(f"  {query_id}: {state}, {time.monotonic() - started:.0f} s, {_size(scanned)} scanned")
            if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        athena.stop_query_execution(QueryExecutionId=query_id)
        raise
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "no reason given")
        raise QueryError(f"Athena query {query_id} {state}: {reason}")
    billed = max(scanned, MIN_BILLED_BYTES)
    output = execution.get("ResultConfiguration", {}).get("OutputLocation", "the workgroup's results location")
    progress(
        f"scanned {_size(scanned)} in {time.monotonic() - started:.1f} s: ${billed / 1e12 * DOLLARS_PER_TB:.6f} "
        f"(${DOLLARS_PER_TB:g} per TB, 10 MB minimum); results in {output}"
    )
    rows: list[tuple] = []
    header: list[str] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        header = header or [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        rows += [tuple(cell.get("VarCharValue") for cell in row["Data"]) for row in page["ResultSet"]["Rows"]]
    # A SELECT's first row repeats the column names.
    return header, rows[1:] if rows and rows[0] == tuple(header) else rows


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def render(header: list[str], rows: list[tuple], *, as_csv: bool, out=None) -> None:
    out = out or sys.stdout
    if as_csv:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", file=out)


def saved_query(name: str, queries: dict[str, SavedQuery], kind: str) -> SavedQuery:
    query = queries.get(name)
    if query is None:
        raise QueryError(
            f"NAME={name!r} is invalid: allowed {', '.join(queries) or 'none'} (the saved queries of {kind}; one over "
            "a log source the stack does not ship, such as WAF's where there is no web ACL, is left out)"
        )
    return query


def run(
    kind: str,
    *,
    name: str | None,
    sql: str | None,
    since: str,
    until: str | None,
    request_id: str | None,
    as_csv: bool,
    list_only: bool,
) -> int:
    stack = manifest.find(kind)
    queries = saved_queries(stack)
    if list_only:
        for query in queries.values():
            print(f"{query.name:18} {query.description} (parameters: {', '.join(dict.fromkeys(query.parameters))})")
        return 0
    if bool(name) == bool(sql):
        raise QueryError("give NAME=<saved query> or SQL='…' (one of them); LIST=1 lists the saved queries")
    now = datetime.now(UTC)
    bounds = {"since": hour(since, now), "until": hour(until, now) if until else now.strftime("%Y/%m/%d/%H")}
    if bounds["since"] > bounds["until"]:
        raise QueryError(f"SINCE={since!r} is after UNTIL={until!r}: allowed a SINCE at or before UNTIL")
    if name:
        query = saved_query(name, queries, kind)
        statement, parameters = query.sql, bind(query, {**bounds, "id": request_id})
    else:
        statement, parameters = str(sql), []
    # Both names are fixed at synth: no need to ask Terraform for its outputs.
    database = stack.one("aws_glue_catalog_database")["name"]
    workgroup = stack.one("aws_athena_workgroup")["name"]
    client = clients_for(stack)
    progress = lambda text: print(text, file=sys.stderr)  # noqa: E731
    if stack.emulated:
        glue_tables = archive_tables.glue_tables(client("glue"), database)
        header, rows = run_local(
            statement,
            parameters,
            bucket_tables=glue_tables,
            s3=client("s3"),
            since=bounds["since"],
            until=bounds["until"],
            progress=progress,
        )
    else:
        header, rows = run_athena(
            client("athena"),
            statement,
            parameters,
            database=database,
            workgroup=workgroup,
            progress=progress,
        )
    render(header, rows, as_csv=as_csv)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--name", help="a saved query of the stack (--list lists them)")
    parser.add_argument("--sql", help="your own SQL (Athena's dialect), instead of --name")
    parser.add_argument("--since", default="1h", help="from: a duration back (30m, 2h, 7d) or an hour (2026-12-03T08)")
    parser.add_argument("--until", help="to: a duration back or an hour (default: now)")
    parser.add_argument("--id", dest="request_id", help="an API Gateway request id (request-by-id)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    parser.add_argument("--list", action="store_true", help="list the saved queries this environment has")
    args = parser.parse_args(argv)
    try:
        return run(
            args.kind,
            name=args.name,
            sql=args.sql,
            since=args.since,
            until=args.until,
            request_id=args.request_id,
            as_csv=args.csv,
            list_only=args.list,
        )
    except (StackError, QueryError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
