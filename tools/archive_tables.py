"""The archive's Glue tables as DuckDB tables: what ``make query`` runs the saved queries against on the emulator
(whose Athena returns canned results).

The tables are read from the deployed Glue catalog (names, columns, SerDe, location), so DuckDB sees exactly the
columns Athena would. Each line is parsed as the table's SerDe parses it on Athena: OpenX JSON lowercases keys,
applies ``mapping.<column>``, turns a JSON object in a string column into its JSON text and reads a line that is
not a JSON object as all NULL (``ignore.malformed.json``: the row stays, so ``count(*)`` counts it, as on Athena);
RegexSerDe reads a non-matching line as all NULL too. Like partition
projection, only the objects of the requested hours are read.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.archive import lines_of

OPENX_JSON = "org.openx.data.jsonserde.JsonSerDe"
REGEX = "org.apache.hadoop.hive.serde2.RegexSerDe"
PRIMITIVES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
}
HOUR_IN_KEY = re.compile(r"(\d{4}/\d{2}/\d{2}/\d{2})/")


@dataclass(frozen=True)
class HiveType:
    """A parsed Hive type: a primitive, ``array<of>`` or ``struct<name:type,...>``."""

    kind: str
    of: HiveType | None = None
    fields: tuple[tuple[str, HiveType], ...] = ()

    @property
    def duckdb(self) -> str:
        if self.kind == "array":
            return f"{self.of.duckdb}[]"
        if self.kind == "struct":
            return "STRUCT(" + ", ".join(f'"{name}" {t.duckdb}' for name, t in self.fields) + ")"
        return PRIMITIVES[self.kind]


def parse_type(text: str) -> HiveType:
    """Parse a Glue column type such as ``array<struct<name:string,value:string>>``."""
    parsed, rest = _parse(text.replace(" ", "").lower())
    if rest:
        raise ValueError(f"column type {text!r} is invalid: unexpected {rest!r}")
    return parsed


def _parse(text: str) -> tuple[HiveType, str]:
    if text.startswith("array<"):
        inner, rest = _parse(text[len("array<") :])
        return HiveType("array", of=inner), _expect(rest, ">")
    if text.startswith("struct<"):
        rest, fields = text[len("struct<") :], []
        while True:
            name, _, rest = rest.partition(":")
            field_type, rest = _parse(rest)
            fields.append((name, field_type))
            if rest.startswith(","):
                rest = rest[1:]
                continue
            return HiveType("struct", fields=tuple(fields)), _expect(rest, ">")
    name = re.match(r"[a-z]+", text)
    if not name or name.group(0) not in PRIMITIVES:
        raise ValueError(f"column type {text!r} is not supported: allowed {', '.join(PRIMITIVES)}, array<>, struct<>")
    return HiveType(name.group(0)), text[name.end() :]


def _expect(text: str, token: str) -> str:
    if not text.startswith(token):
        raise ValueError(f"column type is invalid: expected {token!r} at {text!r}")
    return text[len(token) :]


@dataclass(frozen=True)
class Table:
    """One Glue table, as much of it as reading its lines needs."""

    name: str
    columns: tuple[tuple[str, HiveType], ...]
    bucket: str
    prefix: str
    serde: str
    serde_parameters: dict[str, str]

    @classmethod
    def from_glue(cls, table: dict) -> Table:
        descriptor = table["StorageDescriptor"]
        bucket, _, prefix = descriptor["Location"].removeprefix("s3://").partition("/")
        return cls(
            name=table["Name"],
            columns=tuple((c["Name"], parse_type(c["Type"])) for c in descriptor["Columns"]),
            bucket=bucket,
            prefix=prefix,
            serde=descriptor["SerdeInfo"]["SerializationLibrary"],
            serde_parameters=dict(descriptor["SerdeInfo"].get("Parameters") or {}),
        )

    def row(self, line: str) -> dict[str, Any]:
        """The line as this table's SerDe reads it: each column's value, None where it has none."""
        if self.serde == REGEX:
            found = re.match(self.serde_parameters["input.regex"], line)
            groups = found.groups() if found else (None,) * len(self.columns)
            return {name: value for (name, _), value in zip(self.columns, groups, strict=False)}
        if self.serde != OPENX_JSON:
            raise ValueError(f"table {self.name}: SerDe {self.serde!r} is not supported locally")
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            return dict.fromkeys(name for name, _ in self.columns)
        value = _lowercase(value)
        return {
            name: _coerce(value.get(self.serde_parameters.get(f"mapping.{name}", name)), hive)
            for name, hive in self.columns
        }


def _lowercase(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _lowercase(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lowercase(v) for v in value]
    return value


def _coerce(value: Any, hive: HiveType) -> Any:
    if value is None:
        return None
    if hive.kind == "array":
        return [_coerce(v, hive.of) for v in value] if isinstance(value, list) else None
    if hive.kind == "struct":
        if not isinstance(value, dict):
            return None
        return {name: _coerce(value.get(name), t) for name, t in hive.fields}
    if PRIMITIVES[hive.kind] == "VARCHAR":
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if hive.kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    try:
        return (float if hive.kind in ("double", "float") else int)(value)
    except (TypeError, ValueError):
        return None


def glue_tables(glue, database: str) -> list[Table]:
    tables = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        tables += [Table.from_glue(t) for t in page["TableList"]]
    return tables


def hour_of(key: str, prefix: str) -> str | None:
    found = HOUR_IN_KEY.match(key[len(prefix) :])
    return found.group(1) if found else None


def load(
    connection,
    tables: Iterable[Table],
    s3,
    *,
    since: str,
    until: str,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Create one DuckDB table per Glue table (its columns and ``datehour``) holding the lines of the objects of
    the hours ``since``..``until``; returns the row count of each."""
    counts = {}
    with tempfile.TemporaryDirectory() as scratch:
        for table in tables:
            columns = {name: hive.duckdb for name, hive in table.columns} | {"datehour": "VARCHAR"}
            definition = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            connection.execute(f'CREATE OR REPLACE TABLE "{table.name}" ({definition})')
            path, rows, objects = Path(scratch) / f"{table.name}.ndjson", 0, 0
            with path.open("w") as out:
                for key in _keys(s3, table, since, until):
                    objects += 1
                    body = s3.get_object(Bucket=table.bucket, Key=key)["Body"].read()
                    for line in lines_of(body):
                        out.write(json.dumps({**table.row(line), "datehour": hour_of(key, table.prefix)}) + "\n")
                        rows += 1
            if rows:
                spec = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items()) + "}"
                connection.execute(
                    f"INSERT INTO \"{table.name}\" SELECT * FROM read_json(?, format='newline_delimited', "
                    f"columns={spec})",
                    [str(path)],
                )
            counts[table.name] = rows
            progress(f"  {table.name}: {rows} lines from {objects} objects under s3://{table.bucket}/{table.prefix}")
    return counts


def _keys(s3, table: Table, since: str, until: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=table.bucket, Prefix=table.prefix):
        for item in page.get("Contents", []):
            hour = hour_of(item["Key"], table.prefix)
            if hour is not None and since <= hour <= until:
                keys.append(item["Key"])
    return sorted(keys)
