"""The local loop: ``up`` synthesizes, starts the emulator, bootstraps its state bucket (skipped when the bucket and
the bootstrap state already match the synthesized stack), deploys ``local``, starts the local API and proves a
request reaches the archive, printing each step's time and the total; ``down`` stops the local API and destroys
``local``.

``python -m tools.devloop up|down``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from tools import archive, aws, clients, emulator, local_api, manifest, stackctl, tokens
from tools.manifest import StackError


class Steps:
    """Prints ``[n] what...`` as a step starts and its duration when it ends, and the total at the end.

    ``make_started`` (wall-clock seconds) is when ``make`` began: the time until now was its prerequisites (the
    setup), counted as the first step and in the total."""

    def __init__(self, make_started: float | None = None) -> None:
        self.started = time.monotonic()
        self.times: list[tuple[str, float]] = []
        if make_started is not None:
            setup = max(0.0, time.time() - make_started)
            self.times.append(("setup (make's prerequisites)", setup))
            self.started -= setup
            print(f"[1] {self.times[0][0]}: {setup:.1f} s", flush=True)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        print(f"\n[{len(self.times) + 1}] {what}...", flush=True)
        began = time.monotonic()
        yield
        self.times.append((what, time.monotonic() - began))
        print(f"[{len(self.times)}] {what}: {self.times[-1][1]:.1f} s", flush=True)

    def summary(self) -> str:
        rows = [f"  {what:<44} {seconds:6.1f} s" for what, seconds in self.times]
        return "\n".join(["\n== timings ==", *rows, f"  {'total':<44} {time.monotonic() - self.started:6.1f} s"])


def synth() -> None:
    # As `make synth` does: -O drops the bindings' per-call type checks; bytecode is kept (see synth/fast_import).
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-O", "main.py"], cwd=manifest.PROJECT_DIR, env=environment, check=True)


def _bootstrap_fingerprint(stack: manifest.Stack) -> str:
    return hashlib.sha256((stack.directory / "cdk.tf.json").read_bytes()).hexdigest()


def _bootstrap_marker(stack: manifest.Stack) -> Path:
    state = Path(stack.tf["terraform"]["backend"]["local"]["path"])
    return state.with_suffix(".applied-from")


def bootstrap_is_current(stack: manifest.Stack) -> bool:
    """The emulator's state bucket exists and the bootstrap stack was last applied from this very JSON."""
    marker = _bootstrap_marker(stack)
    if not marker.exists() or marker.read_text() != _bootstrap_fingerprint(stack):
        return False
    buckets = [b["bucket"] for b in stack.resources("aws_s3_bucket").values()]
    try:
        s3 = aws.emulator_client("s3")
        for bucket in buckets:
            s3.head_bucket(Bucket=bucket)
    except (BotoCoreError, ClientError):  # a fresh emulator: apply it
        return False
    return True


def up(make_started: float | None = None) -> None:
    """Synthesize, start the emulator, bootstrap, deploy the local stack, and prove a request reaches the archive."""
    steps = Steps(make_started)
    with steps.step("synth (every stack)"):
        synth()
    with steps.step("emulator"):
        emulator.start(emulator.configured_port())
    bootstrap = manifest.find("bootstrap")
    if bootstrap_is_current(bootstrap):
        print("\n[-] bootstrap: state bucket exists and the stack is unchanged, skipped")
    else:
        with steps.step("apply bootstrap (state bucket, key)"):
            stackctl.apply("bootstrap")
            _bootstrap_marker(bootstrap).write_text(_bootstrap_fingerprint(bootstrap))
    with steps.step("apply local"):
        stackctl.apply("local")
    with steps.step("outputs"):
        local = manifest.find("local")
        values = stackctl.outputs("local")
        bucket = str(stackctl.outputs("bootstrap")["state_bucket_name"])
    print(f"\n== {local.name} outputs (`make outputs` prints the long ones whole) ==")
    for name, value in sorted(values.items()):
        print(f"  {name} = {shown(value)}")
    for key in archive.state_objects(bucket, local.name):
        print(f"  state object: s3://{bucket}/{key}")
    print(f"  dashboard: {values['dashboard_name']}, alarms: {values['alarm_count']}")
    with steps.step("local API + a request into the archive"):
        lines = _call_local_api(local, values)
    print("\n".join(lines))
    print(steps.summary())


def shown(value: object, width: int = 100) -> str:
    """An output as `make up` prints it: short values whole; a long JSON object by its keys, a long JSON list by
    its length (the whole value is one `terraform output` away)."""
    text = str(value)
    if len(text) <= width:
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict):
        return "{" + ", ".join(parsed) + "} (JSON)"
    if isinstance(parsed, list):
        return f"[{len(parsed)} items] (JSON)"
    return text


def _runner_identity(stack: manifest.Stack, values: dict[str, object], credentials: clients.Credentials) -> str:
    """What the local API reads when it starts: the synthesized stack, the emulator process, the deployed API and
    the keys in its usage plan."""
    emulator_pid = emulator.pid_file(emulator.configured_port())
    parts = [
        (stack.directory / "cdk.tf.json").read_bytes(),
        emulator_pid.read_bytes() if emulator_pid.exists() else b"",
        str(values["api_url"]).encode(),
        credentials.api_key_id.encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _call_local_api(local: manifest.Stack, values: dict[str, object]) -> list[str]:
    port = int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT))
    credentials = clients.local_client()
    url = local_api.start_background(port, identity=_runner_identity(local, values, credentials))
    key = credentials.api_key
    access_token = tokens.token("local", scopes=["events/write"])
    request = urllib.request.Request(
        f"{url}/events",
        method="POST",
        headers={"Authorization": access_token, "x-api-key": key, "Content-Type": "application/json"},
        data=json.dumps({"type": "make.up", "payload": {"hello": "world"}}).encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
        request_id = response.headers["x-amzn-RequestId"]
    bucket = str(values["log_bucket_name"])
    # The request's id is in its access-log line and in every function line (Powertools' correlation_id).
    archived = {
        source: archive.find_archived(bucket, request_id, prefix=f"logs/{source}/")
        for source in ("apigateway", "lambda")
    }
    return [
        "\n== local API (running, reloads on edits under functions/; `make down` stops it) ==",
        f"  url: {url}",
        f"  client {credentials.client}: app client {credentials.client_id}, api key {key}",
        "  a token: TOKEN=$(make -s token SCOPES=events/write)   (`make token AS_USER=1`: a user's, without the scope)",
        f'  curl -H "Authorization: $TOKEN" -H "x-api-key: {key}" {url}/whoami',
        f"  POST /events -> {response.status} id={answer['id']} request id={request_id}",
        *(
            f"  archived {source} lines: s3://{bucket}/{key}"
            if key
            else f"  archived {source} lines: not found in 30 s"
            for source, key in archived.items()
        ),
        f"  follow it through the archive: make query NAME=request-by-id ID={request_id}",
    ]


def down() -> None:
    """Stop the local API and, if the emulator is running, destroy the local stack."""
    local_api.stop_background(int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT)))
    if emulator.is_up(emulator.configured_port()):
        stackctl.destroy("local")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--make-started", type=float, default=None, help="when make began (seconds since the epoch)")
    args = parser.parse_args(argv)
    try:
        up(args.make_started) if args.action == "up" else down()
    except (StackError, subprocess.CalledProcessError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
