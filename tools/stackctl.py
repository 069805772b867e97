"""Drive Terraform over the synthesized stacks (``cdktf.out``): validate, plan, apply, destroy, drift, up, down.

Stacks are found through cdktf's ``manifest.json``, so their names are never typed twice: an environment
``ENV`` is the stack named ``*-ENV``; ``bootstrap`` is the remote-state stack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.emulator import DEFAULT_EMULATOR_PORT, HOST

PROJECT_DIR = Path(__file__).resolve().parent.parent
KINDS = ("local", "dev", "prod", "bootstrap")


class StackError(RuntimeError):
    """A Terraform command failed; the message carries its output."""


@dataclass(frozen=True)
class Stack:
    name: str
    directory: Path


def outdir() -> Path:
    return Path(os.environ.get("CDKTF_OUTDIR", PROJECT_DIR / "cdktf.out"))


def find(kind: str, out: Path | None = None) -> Stack:
    """The synthesized stack for an environment name or ``bootstrap``."""
    out = out or outdir()
    manifest = out / "manifest.json"
    if not manifest.exists():
        raise StackError(f"{manifest} is missing: run `make synth` first")
    stacks = json.loads(manifest.read_text())["stacks"]
    matches = [name for name in stacks if name.endswith(f"-{kind}")]
    if len(matches) != 1:
        raise StackError(f"kind={kind!r} is invalid: allowed one of {', '.join(KINDS)} (stacks: {', '.join(stacks)})")
    name = matches[0]
    return Stack(name, out / stacks[name]["workingDirectory"])


def emulator_environment(port: int | None = None) -> dict[str, str]:
    """Variables that point the AWS SDKs of Terraform's provider and S3 backend at the emulator."""
    port = port or int(os.environ.get("EMULATOR_PORT", DEFAULT_EMULATOR_PORT))
    return {"AWS_ENDPOINT_URL": f"http://{HOST}:{port}", "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}


def terraform(stack: Stack, *args: str, env: dict[str, str] | None = None, check: bool = True,
              capture: bool = False) -> subprocess.CompletedProcess:
    command = ["terraform", f"-chdir={stack.directory}", *args]
    result = subprocess.run(command, env={**os.environ, **(env or {})}, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None, check=False)
    if check and result.returncode != 0:
        raise StackError(f"`terraform {' '.join(args)}` failed for {stack.name} (exit {result.returncode})"
                         + (f":\n{result.stdout}" if capture else ""))
    return result


def init(stack: Stack, *, backend: bool = True, env: dict[str, str] | None = None, capture: bool = False) -> None:
    args = ["init", "-input=false", "-no-color", "-reconfigure"]
    if not backend:
        args.append("-backend=false")
    elif env and "AWS_ENDPOINT_URL" in env:
        # dev/prod keep real-AWS backends in their JSON; against the emulator only addressing changes.
        args += ["-backend-config=use_path_style=true", "-backend-config=skip_credentials_validation=true"]
    terraform(stack, *args, env=env, capture=capture)


def validate(out: Path | None = None) -> list[str]:
    out = out or outdir()
    names = json.loads((out / "manifest.json").read_text())["stacks"]
    for name in names:
        stack = find(name.rsplit("-", 1)[1], out)
        init(stack, backend=False, capture=True)
        terraform(stack, "validate", "-no-color", capture=True)
        print(f"{name}: valid")
    return list(names)


def plan(kind: str, *, env: dict[str, str] | None = None, detailed_exitcode: bool = False,
         capture: bool = False) -> subprocess.CompletedProcess:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    args = ["plan", "-input=false", "-no-color"] + (["-detailed-exitcode"] if detailed_exitcode else [])
    result = terraform(stack, *args, env=env, check=False, capture=capture)
    if result.returncode not in ((0, 2) if detailed_exitcode else (0,)):
        raise StackError(f"plan of {stack.name} failed (exit {result.returncode})"
                         + (f":\n{result.stdout}" if capture else ""))
    return result


def apply(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> None:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    terraform(stack, "apply", "-auto-approve", "-input=false", "-no-color", env=env, capture=capture)


def destroy(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> None:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    terraform(stack, "destroy", "-auto-approve", "-input=false", "-no-color", env=env, capture=capture)


def outputs(kind: str) -> dict[str, object]:
    result = terraform(find(kind), "output", "-json", "-no-color", capture=True)
    return {name: value["value"] for name, value in json.loads(result.stdout).items()}


def drift(kind: str) -> int:
    """0 when what is deployed matches the state and code, 2 when it drifted (``-detailed-exitcode``)."""
    result = plan(kind, detailed_exitcode=True, capture=True)
    if result.returncode == 2:
        changes = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("#")]
        print(f"DRIFT in {find(kind).name}: {len(changes)} resource(s) differ")
        print("\n".join(f"  {line}" for line in changes))
    else:
        print(f"no drift in {find(kind).name}")
    return result.returncode


def emulator_client(service: str):
    import boto3  # only `up` and the tests need it

    return boto3.client(service, endpoint_url=emulator_environment()["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def state_objects(bucket: str, stack_name: str) -> list[str]:
    listed = emulator_client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{stack_name}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def archived_texts(bucket: str, prefix: str, seen: set[str]):
    """Yield ``(key, gunzipped text)`` of each archive object under ``prefix`` not yet in ``seen`` (then adds it)."""
    import gzip

    s3 = emulator_client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"] not in seen:
                seen.add(item["Key"])
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                yield item["Key"], gzip.decompress(body).decode("utf-8", "replace")


def find_archived(bucket: str, needle: str, *, prefix: str = "logs/", timeout_seconds: float = 30.0) -> str | None:
    """The key of the first archive object whose (gunzipped) content contains ``needle``."""
    import time

    deadline = time.monotonic() + timeout_seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        for key, text in archived_texts(bucket, prefix, seen):
            if needle in text:
                return key
        time.sleep(0.5)
    return None


def up() -> None:
    """Bootstrap the emulator's state bucket, deploy the local stack, and report what was made."""
    apply("bootstrap")
    apply("local")
    local = find("local")
    values = outputs("local")
    print(f"\n== {local.name} outputs ==")
    for name, value in sorted(values.items()):
        print(f"  {name} = {value}")
    bucket = str(outputs("bootstrap")["state_bucket_name"])
    for key in state_objects(bucket, local.name):
        print(f"  state object: s3://{bucket}/{key}")
    print(f"  dashboard: {values['dashboard_name']}, alarms: {values['alarm_count']}")
    _call_local_api(values)


def _call_local_api(values: dict[str, object]) -> None:
    import urllib.request

    from tools import local_api

    port = int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT))
    url = local_api.start_background(port)
    key = str(values["api_key_value"])
    request = urllib.request.Request(f"{url}/events", method="POST", headers={"x-api-key": key},
                                     data=json.dumps({"type": "make.up", "payload": {"hello": "world"}}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    archived = find_archived(str(values["log_bucket_name"]), answer["id"])
    print(f"\n== local API (running; `make down` stops it) ==\n  url: {url}\n  api key: {key}")
    print(f"  POST /events -> {response.status} id={answer['id']}")
    print(f"  archived log object: s3://{values['log_bucket_name']}/{archived}" if archived
          else "  archived log object: not found within 30 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("validate", "plan", "apply", "destroy", "drift", "outputs", "up", "down"))
    parser.add_argument("kind", nargs="?", default="local", choices=KINDS)
    args = parser.parse_args(argv)
    try:
        if args.action == "validate":
            validate()
        elif args.action == "plan":
            plan(args.kind)
        elif args.action == "apply":
            apply(args.kind)
        elif args.action == "destroy":
            destroy(args.kind)
        elif args.action == "drift":
            return drift(args.kind)
        elif args.action == "outputs":
            print(json.dumps(outputs(args.kind), indent=2))
        elif args.action == "up":
            up()
        else:
            from tools import local_api

            local_api.stop_background(int(os.environ.get("LOCAL_API_PORT", local_api.DEFAULT_PORT)))
            destroy("local")
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
