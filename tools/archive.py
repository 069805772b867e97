"""Read the log archive and the state bucket: list objects, and the (decompressed) text of archived objects.

``make archive ENV=…`` (``python -m tools.archive [ENV] [--source lambda/<function>] [--since 1h] [--grep TEXT]
[--list]``) lists the archive's objects written since ``--since`` under ``logs/<source>/`` and prints their log
lines, decompressed. Real Firehose output holds one line per record (the stream's processor extracts the
messages); the emulator stores CloudWatch Logs' envelopes as they come. Both read as plain lines here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from tools import manifest, stackctl
from tools.aws import clients_for, emulator_client
from tools.logs import parse_since
from tools.manifest import StackError


def state_objects(bucket: str, stack_name: str, s3=None) -> list[str]:
    s3 = s3 or emulator_client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{stack_name}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def archived_texts(bucket: str, prefix: str, seen: set[str], s3=None) -> Iterator[tuple[str, str]]:
    """Yield ``(key, gunzipped text)`` of each archive object under ``prefix`` not yet in ``seen`` (then adds it)."""
    s3 = s3 or emulator_client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"] not in seen:
                seen.add(item["Key"])
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                yield item["Key"], gzip.decompress(body).decode("utf-8", "replace")


def find_archived(
    bucket: str, needle: str, *, prefix: str = "logs/", timeout_seconds: float = 30.0, s3=None
) -> str | None:
    """The key of the first archive object whose (gunzipped) content contains ``needle``."""
    s3 = s3 or emulator_client("s3")
    deadline = time.monotonic() + timeout_seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for key, text in archived_texts(bucket, prefix, seen, s3):
            if needle in text:
                return key
        time.sleep(0.5)
    return None


def lines_of(data: bytes) -> list[str]:
    """The log lines in one archive object, gzip or not, extracted lines or CloudWatch Logs envelopes."""
    text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8", "replace")
    decoder, position, envelopes = json.JSONDecoder(), 0, []
    try:
        while position < len(text.rstrip()):
            value, position = decoder.raw_decode(text, position)
            if not (isinstance(value, dict) and "logEvents" in value):
                break
            envelopes.append(value)
            while position < len(text) and text[position].isspace():
                position += 1
        else:
            return [event["message"] for envelope in envelopes for event in envelope["logEvents"]]
    except ValueError:
        pass
    return [line for line in text.splitlines() if line.strip()]


def objects_since(s3, bucket: str, prefix: str, since: datetime, progress: Callable[[str], None]) -> list[dict]:
    """Objects under ``prefix`` written at or after ``since``, oldest first; reports progress every 1,000."""
    found, listed = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            listed += 1
            if item["LastModified"] >= since:
                found.append(item)
            if listed % 1000 == 0:
                progress(f"... {listed} objects listed, {len(found)} in range")
    return sorted(found, key=lambda item: (item["LastModified"], item["Key"]))


def run(kind: str, *, source: str, since: str, grep: str | None, list_only: bool, out=print) -> int:
    stack = manifest.find(kind)
    bucket = str(stackctl.outputs(kind)["log_bucket_name"])
    s3 = clients_for(stack)("s3")
    start = datetime.now(UTC) - timedelta(seconds=parse_since(since))
    prefix = f"logs/{source.strip('/')}/" if source else "logs/"
    progress = lambda text: print(text, file=sys.stderr)  # noqa: E731
    items = objects_since(s3, bucket, prefix, start, progress)
    progress(f"{len(items)} objects in s3://{bucket}/{prefix} since {start:%Y-%m-%d %H:%M:%S} UTC")
    for item in items:
        if list_only:
            out(f"{item['LastModified']:%Y-%m-%d %H:%M:%S} {item['Size']:>9} s3://{bucket}/{item['Key']}")
            continue
        for line in lines_of(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()):
            if grep is None or grep in line:
                out(f"{item['Key']}: {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--source", default="", help="e.g. lambda/serverless-app-local-api (default: every source)")
    parser.add_argument("--since", default="1h", help="how far back: 30s, 15m, 2h, 1d (default 1h)")
    parser.add_argument("--grep", help="print only lines containing this text")
    parser.add_argument("--list", action="store_true", help="list the objects instead of printing their lines")
    args = parser.parse_args(argv)
    try:
        return run(args.kind, source=args.source, since=args.since, grep=args.grep, list_only=args.list)
    except (StackError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
