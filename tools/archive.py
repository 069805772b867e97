"""Read the log archive and the state bucket: list objects, and the (decompressed) text of archived objects."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

from tools.aws import emulator_client


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
