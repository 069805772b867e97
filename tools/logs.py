"""``make logs ENV=…``: read the stack's CloudWatch log groups, on the emulator or a real account.

Every group the synthesized stack creates (each route group's function's, the API's access and execution logs, WAF's
and Firehose's); ``--group`` naming a route group (the stack's ``route_groups`` output) reads that group's function
log, any other text the groups whose name contains it. Events since ``--since`` (``30s``, ``15m``, ``2h``, ``1d``)
matching a CloudWatch Logs ``--filter`` pattern, merged in time order; ``--follow`` keeps polling.

``python -m tools.logs [ENV] [--since 15m] [--filter PATTERN] [--group TEXT] [--follow]``
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from tools import manifest
from tools.aws import clients_for
from tools.manifest import Stack, StackError

DURATION = re.compile(r"(\d+)([smhd])")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FOLLOW_SECONDS = 2.0


def parse_since(text: str) -> float:
    """Seconds in ``30s``, ``15m``, ``2h`` or ``1d``."""
    found = DURATION.fullmatch(text.strip())
    if not found:
        raise ValueError(f"--since={text!r} is invalid: allowed a number and a unit of s, m, h or d (e.g. 15m)")
    return int(found.group(1)) * SECONDS[found.group(2)]


def log_groups(stack: Stack, apigateway=None) -> list[str]:
    """The names of the stack's log groups; a name holding the REST API's id is resolved through API Gateway."""
    names = []
    apis = {name: api["name"] for name, api in stack.resources("aws_api_gateway_rest_api").items()}
    ids: dict[str, str] | None = None  # deployed REST API ids by name, listed once when first needed
    for group in stack.resources("aws_cloudwatch_log_group").values():
        name = group["name"]
        found = re.search(r"\$\{aws_api_gateway_rest_api\.([^.]+)\.id\}", name)
        if found and apigateway is not None:
            if ids is None:
                pages = apigateway.get_paginator("get_rest_apis").paginate()
                ids = {a["name"]: a["id"] for page in pages for a in page["items"]}
            api_id = ids.get(apis.get(found.group(1), ""))
            if api_id is None:
                continue  # not deployed
            name = name.replace(found.group(0), api_id)
        if "${" not in name:
            names.append(name)
    return sorted(names)


def selected(stack: Stack, every_group: list[str], group: str | None) -> list[str]:
    """The groups ``--group`` asks for: a route group's function log by its name, else every name containing it."""
    if not group:
        return every_group
    route_groups = stack.route_groups()
    if group in route_groups:
        return [route_groups[group]["log_group"]]
    chosen = [g for g in every_group if group in g]
    if not chosen:
        raise StackError(
            f"--group={group!r} is neither a route group ({', '.join(route_groups)}) nor part of a log group's"
            f" name: {', '.join(every_group)}"
        )
    return chosen


def events(
    logs, groups: list[str], start_ms: int, pattern: str | None, progress: Callable[[str], None]
) -> Iterator[dict]:
    """Every matching event of ``groups`` since ``start_ms``, each with its ``group``, in time order."""
    found: list[dict] = []
    for group in groups:
        arguments = {"logGroupName": group, "startTime": start_ms}
        if pattern:
            arguments["filterPattern"] = pattern
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**arguments):
                found += [{**event, "group": group} for event in page.get("events", [])]
                if len(found) >= 1000 and len(found) % 1000 < len(page.get("events", [])):
                    progress(f"... {len(found)} events read")
        except logs.exceptions.ResourceNotFoundException:
            progress(f"(no group {group}: not deployed, or nothing written yet)")
    yield from sorted(found, key=lambda e: (e["timestamp"], e.get("eventId", "")))


def render(event: dict) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{when} {event['group']} {event['message'].rstrip()}"


def run(kind: str, *, since: str, pattern: str | None, group: str | None, follow: bool, out=print) -> int:
    stack = manifest.find(kind)
    clients = clients_for(stack)
    every_group = log_groups(stack, clients("apigateway"))
    groups = selected(stack, every_group, group)
    logs = clients("logs")
    start_ms = int((time.time() - parse_since(since)) * 1000)
    progress = lambda text: print(text, file=sys.stderr)  # noqa: E731
    progress(f"{len(groups)} log groups of {stack.name}, since {since}" + (f", filter {pattern!r}" if pattern else ""))
    seen: set[str] = set()
    while True:
        for event in events(logs, groups, start_ms, pattern, progress):
            if event.get("eventId") not in seen:
                seen.add(event.get("eventId"))
                out(render(event))
                start_ms = max(start_ms, event["timestamp"])
        if not follow:
            return 0
        time.sleep(FOLLOW_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--since", default="15m", help="how far back: 30s, 15m, 2h, 1d (default 15m)")
    parser.add_argument(
        "--filter", help="a CloudWatch Logs filter pattern, e.g. '\"ERROR\"' or '{ $.level = \"ERROR\" }'"
    )
    parser.add_argument("--group", help="a route group's function log, or the groups whose name contains this text")
    parser.add_argument("--follow", action="store_true", help="keep polling for new events")
    args = parser.parse_args(argv)
    try:
        return run(args.kind, since=args.since, pattern=args.filter, group=args.group, follow=args.follow)
    except (StackError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
