"""The local loop: ``up`` bootstraps the emulator's state bucket, deploys ``local``, starts the local API and proves a
request reaches the archive; ``down`` stops the local API and destroys ``local``.

``python -m tools.devloop up|down``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

from tools import archive, emulator, local_api, manifest, stackctl
from tools.manifest import StackError


def up() -> None:
    """Bootstrap the emulator's state bucket, deploy the local stack, and report what was made."""
    stackctl.apply("bootstrap")
    stackctl.apply("local")
    local = manifest.find("local")
    values = stackctl.outputs("local")
    print(f"\n== {local.name} outputs ==")
    for name, value in sorted(values.items()):
        print(f"  {name} = {value}")
    bucket = str(stackctl.outputs("bootstrap")["state_bucket_name"])
    for key in archive.state_objects(bucket, local.name):
        print(f"  state object: s3://{bucket}/{key}")
    print(f"  dashboard: {values['dashboard_name']}, alarms: {values['alarm_count']}")
    _call_local_api(values)


def _call_local_api(values: dict[str, object]) -> None:
    port = int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT))
    url = local_api.start_background(port)
    key = str(values["api_key_value"])
    request = urllib.request.Request(
        f"{url}/events",
        method="POST",
        headers={"x-api-key": key},
        data=json.dumps({"type": "make.up", "payload": {"hello": "world"}}).encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    archived = archive.find_archived(str(values["log_bucket_name"]), answer["id"])
    print(f"\n== local API (running; `make down` stops it) ==\n  url: {url}\n  api key: {key}")
    print(f"  POST /events -> {response.status} id={answer['id']}")
    print(
        f"  archived log object: s3://{values['log_bucket_name']}/{archived}"
        if archived
        else "  archived log object: not found within 30 s"
    )


def down() -> None:
    """Stop the local API and, if the emulator is running, destroy the local stack."""
    local_api.stop_background(int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT)))
    if emulator.is_up(emulator.configured_port()):
        stackctl.destroy("local")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("up", "down"))
    args = parser.parse_args(argv)
    try:
        up() if args.action == "up" else down()
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
