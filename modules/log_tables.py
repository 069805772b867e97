"""What the archive's lines look like, as tables: one schema per kind of log source, read by Athena through Glue
and by DuckDB locally (tools/query.py), so that both see the same columns.

Firehose writes each source under ``logs/<source>/YYYY/MM/DD/HH/`` one log line per line of text. The line's kind
follows from its source: ``lambda/...`` (Powertools' JSON lines, and the Lambda platform's own JSON lines),
``apigateway/.../access`` (the API's access-log format), ``apigateway/.../execution`` (API Gateway's text lines,
``(<request id>) <message>``) and ``waf/...`` (AWS WAF's documented log record).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from modules.api_config import ACCESS_LOG_FORMAT

PARTITION = "datehour"
"""The one partition column: Firehose's UTC hour ``YYYY/MM/DD/HH``, compared as text (``BETWEEN '2026/12/01/00'
AND '2026/12/01/23'``)."""
# Firehose's default time prefix when the stream's prefix has no timestamp expression, in Java's date format.
PARTITION_FORMAT = "yyyy/MM/dd/HH"
FIREHOSE_TIME_PREFIX = "YYYY/MM/DD/HH/"

OPENX_JSON = "org.openx.data.jsonserde.JsonSerDe"
REGEX = "org.apache.hadoop.hive.serde2.RegexSerDe"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class Type:
    """A column type, written for Hive (Glue) and for DuckDB."""

    hive: str
    duckdb: str


STRING = Type("string", "VARCHAR")
BIGINT = Type("bigint", "BIGINT")
INT = Type("int", "INTEGER")
BOOLEAN = Type("boolean", "BOOLEAN")


def array(of: Type) -> Type:
    return Type(f"array<{of.hive}>", f"{of.duckdb}[]")


def struct(**fields: Type) -> Type:
    return Type(
        "struct<" + ",".join(f"{name}:{t.hive}" for name, t in fields.items()) + ">",
        "STRUCT(" + ", ".join(f"{name} {t.duckdb}" for name, t in fields.items()) + ")",
    )


@dataclass(frozen=True)
class Column:
    """One column; ``key`` is the (lowercased) JSON key it reads when that differs from its name."""

    name: str
    type: Type
    comment: str = ""
    key: str | None = None

    @property
    def source_key(self) -> str:
        return self.key or self.name


@dataclass(frozen=True)
class TableSchema:
    """The columns of one kind of log line and how they are parsed from text."""

    kind: str
    description: str
    columns: tuple[Column, ...]
    serde: str = OPENX_JSON
    line_pattern: str | None = None
    """RegexSerDe's ``input.regex``: one group per column; a line that does not match reads as all NULL."""
    extra_serde_parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def serde_parameters(self) -> dict[str, str]:
        if self.serde == REGEX:
            return {"input.regex": str(self.line_pattern), **self.extra_serde_parameters}
        # OpenX lowercases every key (case.insensitive, its default), so a mapping names the lowercased key. A line
        # that is not a JSON object (text a library prints to stdout) reads as a row of NULLs instead of failing the
        # query.
        return {
            "ignore.malformed.json": "true",
            **{f"mapping.{c.name}": c.key for c in self.columns if c.key},
            **self.extra_serde_parameters,
        }


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


CALLER = struct(
    type=STRING,
    sub=STRING,
    client_id=STRING,
    scopes=array(STRING),
    token_use=STRING,
    arn=STRING,
    account=STRING,
    api_key_id=STRING,
)

FUNCTION = TableSchema(
    kind="function",
    description="Lambda function lines: Powertools' structured JSON, and the Lambda platform's JSON lines",
    columns=(
        Column("ts", STRING, "ISO 8601 time of the line (Powertools' timestamp)", key="timestamp"),
        Column("level", STRING, "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        Column("message", STRING),
        Column("service", STRING),
        Column("location", STRING, "function:line of the logging call"),
        Column("cold_start", BOOLEAN),
        Column("function_name", STRING),
        Column("function_arn", STRING, "ARN the function was invoked by (the alias or version)"),
        Column("function_request_id", STRING, "Lambda's request id"),
        Column("correlation_id", STRING, "API Gateway's request id ($context.requestId)"),
        Column("xray_trace_id", STRING),
        Column("caller", CALLER, "who API Gateway let in (claims, IAM principal or API key id; never a secret)"),
        Column("event_id", STRING, "POST /events: the accepted event's id"),
        Column("event_type", STRING, "POST /events: the accepted event's type"),
        Column("status", INT, "a refused request's status (4xx)"),
        Column("error", STRING, "a refused request's error code (validation_failed, ...)"),
        Column("exception_name", STRING),
        Column("exception", STRING),
        Column("platform_time", STRING, "Lambda platform lines: their time", key="time"),
        Column("platform_type", STRING, "Lambda platform lines: platform.start, platform.report, ...", key="type"),
        Column("platform_record", STRING, "Lambda platform lines: the record, as JSON text", key="record"),
    ),
)

ACCESS = TableSchema(
    kind="access",
    description="API Gateway access log lines, one per request, in the API's access-log format",
    columns=tuple(
        Column(_snake(key), STRING, value, key=key.lower() if _snake(key) != key.lower() else None)
        for key, value in json.loads(ACCESS_LOG_FORMAT).items()
    ),
)

EXECUTION = TableSchema(
    kind="execution",
    description="API Gateway execution log lines (errors only at logging level ERROR): (<request id>) <message>",
    serde=REGEX,
    line_pattern=r"^\(([^)]*)\) (.*)$",
    columns=(
        Column("request_id", STRING, "API Gateway's request id"),
        Column("message", STRING),
    ),
)

_RULE_ACTION = struct(ruleid=STRING, action=STRING)
# AWS WAF's documented log fields with the column names of AWS's own Athena table for WAF logs, so its published
# example queries run here unchanged.
WAF = TableSchema(
    kind="waf",
    description="AWS WAF log records, one per inspected request",
    columns=(
        Column("ts", BIGINT, "epoch milliseconds", key="timestamp"),
        Column("formatversion", INT),
        Column("webaclid", STRING),
        Column("terminatingruleid", STRING),
        Column("terminatingruletype", STRING),
        Column("action", STRING, "ALLOW, BLOCK, CAPTCHA or CHALLENGE"),
        Column(
            "terminatingrulematchdetails",
            array(struct(conditiontype=STRING, location=STRING, matcheddata=array(STRING))),
        ),
        Column("httpsourcename", STRING),
        Column("httpsourceid", STRING),
        Column(
            "rulegrouplist",
            array(
                struct(
                    rulegroupid=STRING,
                    terminatingrule=_RULE_ACTION,
                    nonterminatingmatchingrules=array(_RULE_ACTION),
                    excludedrules=STRING,
                )
            ),
        ),
        Column("ratebasedrulelist", array(struct(ratebasedruleid=STRING, limitkey=STRING, maxrateallowed=INT))),
        Column("nonterminatingmatchingrules", array(_RULE_ACTION)),
        Column("requestheadersinserted", STRING),
        Column("responsecodesent", STRING),
        Column(
            "httprequest",
            struct(
                clientip=STRING,
                country=STRING,
                headers=array(struct(name=STRING, value=STRING)),
                uri=STRING,
                args=STRING,
                httpversion=STRING,
                httpmethod=STRING,
                requestid=STRING,
            ),
        ),
        Column("labels", array(struct(name=STRING))),
    ),
)

SCHEMAS = (FUNCTION, ACCESS, EXECUTION, WAF)


def schema_for(source: str) -> TableSchema | None:
    """The schema of the lines a log source ships, or None for a source no table describes."""
    if source.startswith("lambda/"):
        return FUNCTION
    if source.startswith("apigateway/") and source.endswith("/access"):
        return ACCESS
    if source.startswith("apigateway/") and source.endswith("/execution"):
        return EXECUTION
    if source.startswith("waf/"):
        return WAF
    return None


def table_name(source: str, name_prefix: str) -> str:
    """The table of a source: ``function_<name>`` (the function's name without the environment's prefix),
    ``api_access``, ``api_execution`` or ``waf``."""
    schema = schema_for(source)
    if schema is FUNCTION:
        short = source.removeprefix("lambda/").removeprefix(f"{name_prefix}-") or "function"
        return "function_" + re.sub(r"[^a-z0-9]+", "_", short).strip("_")
    if schema is ACCESS or schema is EXECUTION:
        return f"api_{schema.kind}"
    return "waf"
