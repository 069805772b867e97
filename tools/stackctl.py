"""Drive Terraform over the synthesized stacks (``cdktf.out``): validate, plan, apply, destroy, drift, outputs.

Stacks are found through cdktf's ``manifest.json`` (see ``tools/manifest.py``), so their names are never typed
twice.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from tools.manifest import KINDS, Stack, StackError, find, outdir, stack_names


def terraform(
    stack: Stack, *args: str, env: dict[str, str] | None = None, check: bool = True, capture: bool = False
) -> subprocess.CompletedProcess:
    command = ["terraform", f"-chdir={stack.directory}", *args]
    result = subprocess.run(
        command,
        env={**os.environ, **(env or {})},
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        check=False,
    )
    if check and result.returncode != 0:
        raise StackError(
            f"`terraform {' '.join(args)}` failed for {stack.name} (exit {result.returncode})"
            + (f":\n{result.stdout}" if capture else "")
        )
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
    names = stack_names(out)
    for name in names:
        stack = find(name.rsplit("-", 1)[1], out)
        init(stack, backend=False, capture=True)
        terraform(stack, "validate", "-no-color", capture=True)
        print(f"{name}: valid")
    return names


def plan(
    kind: str, *, env: dict[str, str] | None = None, detailed_exitcode: bool = False, capture: bool = False
) -> subprocess.CompletedProcess:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    args = ["plan", "-input=false", "-no-color"] + (["-detailed-exitcode"] if detailed_exitcode else [])
    result = terraform(stack, *args, env=env, check=False, capture=capture)
    if result.returncode not in ((0, 2) if detailed_exitcode else (0,)):
        raise StackError(
            f"plan of {stack.name} failed (exit {result.returncode})" + (f":\n{result.stdout}" if capture else "")
        )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("validate", "plan", "apply", "destroy", "drift", "outputs"))
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
        else:
            print(json.dumps(outputs(args.kind), indent=2))
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
