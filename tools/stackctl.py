"""Drive Terraform over the synthesized stacks (``cdktf.out``): validate, plan, apply, destroy, drift, outputs.

Stacks are found through cdktf's ``manifest.json`` (see ``tools/manifest.py``), so their names are never typed
twice. ``plan`` saves the plan and its summary (``tools/plans.py``) and ``apply-plan`` applies that saved file.
Against a real account (dev, prod, or their bootstrap) the preflight checks run first (``tools/preflight.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tools import aws, plans, preflight
from tools.manifest import KINDS, Stack, StackError, find, outdir, stack_names


def terraform(
    stack: Stack,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    capture: bool = False,
    stdout_only: bool = False,
) -> subprocess.CompletedProcess:
    """Run terraform in the stack's directory; ``capture`` keeps its output (``stdout_only``: warnings apart, for
    output that is parsed)."""
    command = ["terraform", f"-chdir={stack.directory}", *args]
    result = subprocess.run(
        command,
        env=environment_for(stack, env),
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=(subprocess.PIPE if stdout_only else subprocess.STDOUT) if capture else None,
        check=False,
    )
    if check and result.returncode != 0:
        raise StackError(
            f"`terraform {' '.join(args)}` failed for {stack.name} (exit {result.returncode})"
            + (f":\n{result.stdout}{result.stderr or ''}" if capture else "")
        )
    return result


# The AWS SDK ranks these variables above a profile's endpoint_url: an emulated stack's Terraform runs without them,
# so it reaches the emulator its profile names and nothing else (another local AWS, or AWS itself).
ENDPOINT_OVERRIDES = ("AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


def environment_for(stack: Stack, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Terraform runs in for ``stack``: this process's, ``env`` on top, minus ENDPOINT_OVERRIDES for
    an emulated stack."""
    merged = {**os.environ, **(env or {})}
    if stack.emulated:
        merged = {name: value for name, value in merged.items() if not name.startswith(ENDPOINT_OVERRIDES)}
    return merged


def init(stack: Stack, *, backend: bool = True, env: dict[str, str] | None = None, capture: bool = False) -> None:
    """``terraform init``, skipped when the stack was initialized with the same backend, providers and arguments
    (a re-init re-reads the backend and links the provider again: seconds per stack, for nothing)."""
    args = ["init", "-input=false", "-no-color", "-reconfigure"]
    if not backend:
        args.append("-backend=false")
    elif env and "AWS_ENDPOINT_URL" in env:
        # dev/prod keep real-AWS backends in their JSON; against the emulator only addressing changes.
        args += ["-backend-config=use_path_style=true", "-backend-config=skip_credentials_validation=true"]
    settings = stack.tf.get("terraform", {})
    fingerprint = hashlib.sha256(
        json.dumps([args, settings.get("backend"), settings.get("required_providers")], sort_keys=True).encode()
    ).hexdigest()
    marker = stack.directory / ".terraform" / "initialized-with"
    lock = stack.directory / ".terraform.lock.hcl"
    if marker.exists() and lock.exists() and marker.read_text() == fingerprint:
        return
    terraform(stack, *args, env=env, capture=capture)
    marker.write_text(fingerprint)
    if backend:
        migrate_local_state(stack, env=env, capture=capture)


def migrate_local_state(stack: Stack, *, env: dict[str, str] | None = None, capture: bool = False) -> bool:
    """Push a stack's local state into its S3 backend once, before anything plans against the empty remote (the
    bootstrap stack's first apply keeps its state locally; see stacks/bootstrap.py). The local file is then renamed
    ``*.migrated`` so it is never pushed twice. Returns whether it pushed."""
    local = Path(str(stack.tf.get("locals", {}).get("local_state_before_migration", "")))
    if not local.name or "s3" not in stack.tf.get("terraform", {}).get("backend", {}) or not local.is_file():
        return False
    pulled = subprocess.run(
        ["terraform", f"-chdir={stack.directory}", "state", "pull"],
        env=environment_for(stack, env),
        capture_output=True,
        text=True,
        check=False,
    )
    if pulled.returncode != 0:
        raise StackError(f"{stack.name}: `terraform state pull` failed:\n{pulled.stderr}")
    if pulled.stdout.strip() and json.loads(pulled.stdout).get("resources"):
        raise StackError(
            f"{stack.name}: both {local} and the state bucket hold state; keep the bucket's (the shared one) and "
            f"move {local} aside, or push it yourself with `terraform state push`"
        )
    terraform(stack, "state", "push", "-lock-timeout=60s", str(local), env=env, capture=capture)
    local.rename(local.with_name(local.name + ".migrated"))
    print(f"{stack.name}: state moved from {local} into the state bucket", flush=True)
    return True


# The one warning validating a stack as a child module brings: its backend block has no effect there.
_CHILD_MODULE_BACKEND = "Backend configuration ignored"


def validate(out: Path | None = None) -> list[str]:
    """Validate every stack in one Terraform run; raises naming each invalid stack and its errors.

    Each stack is called as a module of a scratch root module (``<out>/validate``), Terraform's own suggestion for
    testing a root module: one ``init -backend=false`` and one ``validate`` load the AWS provider's schema once,
    where a run per stack loads it twice per stack (seconds of CPU each). The stacks' directories are not touched.
    A stack's backend block is ignored there, as ``-backend=false`` ignores it in a run of its own."""
    out = out or outdir()
    names = stack_names(out)
    root = out / "validate"
    root.mkdir(parents=True, exist_ok=True)
    modules = {
        name: {"source": "../" + find(name.rsplit("-", 1)[1], out).directory.relative_to(out).as_posix()}
        for name in names
    }
    (root / "main.tf.json").write_text(json.dumps({"module": modules}, indent=2))
    scratch = Stack("validate", root)
    terraform(scratch, "init", "-backend=false", "-input=false", "-no-color", capture=True)
    result = terraform(scratch, "validate", "-json", "-no-color", check=False, capture=True, stdout_only=True)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise StackError(f"`terraform validate` failed:\n{result.stdout}{result.stderr}") from error
    errors: dict[str, list[str]] = {}
    for diagnostic in report.get("diagnostics", []):
        if diagnostic["summary"] == _CHILD_MODULE_BACKEND:
            continue
        where = diagnostic.get("range", {}).get("filename", "")
        stack = next((name for name in names if f"/{name}/" in f"/{where}"), "(the scratch root)")
        line = f"{diagnostic['summary']}: {diagnostic.get('detail', '')}".rstrip(": ")
        if where:
            line += f" ({where}:{diagnostic['range']['start']['line']})"
        if diagnostic["severity"] == "error":
            errors.setdefault(stack, []).append(line)
        else:
            print(f"{stack}: warning: {line}")
    if errors or not report.get("valid", False):
        raise StackError(
            "terraform validate: "
            + "; ".join(f"{stack}: " + " | ".join(lines) for stack, lines in sorted(errors.items()))
        )
    for name in names:
        print(f"{name}: valid")
    return names


def plan(
    kind: str,
    *,
    env: dict[str, str] | None = None,
    detailed_exitcode: bool = False,
    capture: bool = False,
    targets: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """``terraform plan`` of the stack (``targets``: only those resource addresses and what they depend on)."""
    stack = find(kind)
    init(stack, env=env, capture=capture)
    args = ["plan", "-input=false", "-no-color", *_plan_options(stack)] + (
        ["-detailed-exitcode"] if detailed_exitcode else []
    )
    args += [f"-target={target}" for target in targets]
    result = terraform(stack, *args, env=env, check=False, capture=capture)
    if result.returncode not in ((0, 2) if detailed_exitcode else (0,)):
        raise StackError(
            f"plan of {stack.name} failed (exit {result.returncode})" + (f":\n{result.stdout}" if capture else "")
        )
    return result


def _show(stack: Stack, plan_file: Path, env: dict[str, str] | None) -> dict:
    shown = subprocess.run(
        ["terraform", f"-chdir={stack.directory}", "show", "-json", str(plan_file)],
        env=environment_for(stack, env),
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        raise StackError(f"`terraform show -json` of {plan_file} failed:\n{shown.stderr}")
    return json.loads(shown.stdout)


def saved_plan(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> plans.Summary:
    """Plan into ``cdktf.out/plans/<stack>.tfplan``, write its JSON and Markdown summary, refuse data loss.

    The plan is written under a pending name and becomes the ``.tfplan`` only once it passed the checks: a refused
    plan (or an earlier one) can never be applied by ``apply-plan``. Plans take no state lock (see
    ``_plan_options``)."""
    stack = find(kind)
    init(stack, env=env, capture=capture)
    files = plans.files_for(stack)
    files.binary.parent.mkdir(parents=True, exist_ok=True)
    for stale in (files.binary, files.pending, files.allowed):
        stale.unlink(missing_ok=True)
    terraform(
        stack,
        "plan",
        "-input=false",
        "-no-color",
        *_plan_options(stack),
        f"-out={files.pending}",
        env=env,
        capture=capture,
    )
    summary = plans.write(stack, _show(stack, files.pending, env), files)
    if summary.refused:
        files.pending.unlink()
    plans.refuse_if_protected(summary)
    files.pending.rename(files.binary)
    return summary


def apply_saved(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> None:
    """Apply exactly the plan ``saved_plan`` wrote (Terraform refuses it if the state moved on since), after
    checking it once more: a plan file from anywhere else still cannot destroy what holds data."""
    stack = find(kind)
    files = plans.files_for(stack)
    if not files.binary.exists():
        raise StackError(f"{files.binary} is missing: run `make plan ENV={kind}` first (a refused plan is not kept)")
    init(stack, env=env, capture=capture)
    plans.refuse_if_protected(
        plans.summarize(_show(stack, files.binary, env), stack.name, plans.recorded_allowances(files))
    )
    terraform(
        stack, "apply", "-input=false", "-no-color", *_lock_options(stack), str(files.binary), env=env, capture=capture
    )


def targets_real_aws(stack: Stack) -> bool:
    return not stack.emulated and "AWS_ENDPOINT_URL" not in os.environ


def check_before_touching(stack: Stack, *, online: bool = True) -> None:
    """Run the preflight checks against a real account; raise with every problem found."""
    if not targets_real_aws(stack):
        return
    problems = preflight.offline_checks(stack)
    if online and not problems and stack.kind != "bootstrap":
        problems = preflight.concurrency(stack, boto3.client("lambda", region_name="us-east-1"))
    if problems:
        raise StackError("refusing to run Terraform:\n  " + "\n  ".join(problems))


# The emulator answers without API rate limits, so more resources are read and created at once there; against real
# AWS Terraform keeps its default of 10, which stays under the services' request throttles.
EMULATOR_PARALLELISM = "-parallelism=30"


# How long an apply or destroy waits for another run's state lock before it gives up (a real account: one CI apply
# may be finishing). The emulator's runs never overlap but in the lock-contention test, which expects a refusal.
LOCK_TIMEOUT = "-lock-timeout=10m"


def _parallelism(stack: Stack) -> list[str]:
    return [] if targets_real_aws(stack) else [EMULATOR_PARALLELISM]


def _plan_options(stack: Stack) -> list[str]:
    # A plan never writes state, and a saved plan is refused at apply if the state moved on since it was made: it
    # needs no lock. Without one, a plan role needs no write access to the bucket, a plan never makes an apply wait,
    # and a cancelled run cannot leave a lock behind.
    return [*_parallelism(stack), "-lock=false"]


def _lock_options(stack: Stack) -> list[str]:
    return [LOCK_TIMEOUT] if targets_real_aws(stack) else []


def _destroy_options(stack: Stack) -> list[str]:
    # On the emulator nothing but Terraform changes what a destroy deletes, and a resource already gone is deleted
    # all the same; skipping the refresh of every resource first saves a third of `make down`. A real account's
    # destroy refreshes, so that it plans against what is really there.
    return [] if targets_real_aws(stack) else [EMULATOR_PARALLELISM, "-refresh=false"]


def apply(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> None:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    terraform(
        stack,
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        *_parallelism(stack),
        *_lock_options(stack),
        env=env,
        capture=capture,
    )


def destroy(kind: str, *, env: dict[str, str] | None = None, capture: bool = False) -> None:
    stack = find(kind)
    init(stack, env=env, capture=capture)
    terraform(
        stack,
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        *_destroy_options(stack),
        *_lock_options(stack),
        env=env,
        capture=capture,
    )


def outputs(kind: str) -> dict[str, object]:
    """The stack's outputs, as ``terraform output`` reads them from its state. Kept beside the stack with the version
    of the state object they were read from: while that version is current (one HEAD request tells), the tools that
    ask again and again (`make token`, `make client`, the local API) skip a Terraform run each time."""
    stack = find(kind)
    version = state_version(stack)
    kept = stack.directory / ".terraform" / "outputs.json"
    if version and kept.is_file():
        saved = json.loads(kept.read_text())
        if saved.get("state") == version:
            return saved["outputs"]
    result = terraform(stack, "output", "-json", "-no-color", capture=True, stdout_only=True)
    values = {name: value["value"] for name, value in json.loads(result.stdout).items()}
    if version and kept.parent.is_dir():
        kept.write_text(json.dumps({"state": version, "outputs": values}))
    return values


def state_version(stack: Stack) -> str | None:
    """What names the current version of the stack's state: the S3 object's version id and ETag, or a local file's
    size and modification time; None when it cannot be read (then nothing is kept)."""
    backend = stack.tf.get("terraform", {}).get("backend", {})
    try:
        if "s3" in backend:
            bucket, key = backend["s3"]["bucket"], backend["s3"]["key"]
            head = aws.clients_for(stack)("s3").head_object(Bucket=bucket, Key=key)
            return f"s3:{head.get('VersionId')}:{head['ETag']}:{head['LastModified'].isoformat()}"
        if "local" in backend:
            state = (stack.directory / backend["local"]["path"]).stat()
            return f"local:{state.st_size}:{state.st_mtime_ns}"
    except (OSError, BotoCoreError, ClientError):
        return None
    return None


# One header per resource in a plan's text, e.g. "# aws_s3_bucket_versioning.x will be updated in-place"; the other
# lines that start with "#" are notes inside a resource ("# (2 unchanged attributes hidden)").
RESOURCE_HEADER = re.compile(r"# ([\w.-]+(\[[^\]]+\])?) (will|must) be ")


def changed_resources(plan_text: str) -> list[str]:
    """The headers of the resources a plan's text changes, in order."""
    return [line.strip() for line in plan_text.splitlines() if RESOURCE_HEADER.match(line.strip())]


def drift(kind: str) -> int:
    """0 when what is deployed matches the state and code, 2 when it drifted (``-detailed-exitcode``)."""
    result = plan(kind, detailed_exitcode=True, capture=True)
    if result.returncode == 2:
        changes = changed_resources(result.stdout)
        print(f"DRIFT in {find(kind).name}: {len(changes)} resource(s) differ")
        print("\n".join(f"  {line}" for line in changes))
    else:
        print(f"no drift in {find(kind).name}")
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("validate", "plan", "apply", "apply-plan", "destroy", "drift", "outputs"))
    parser.add_argument("kind", nargs="?", default="local", choices=KINDS)
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.action in ("plan", "apply", "apply-plan", "destroy", "drift"):
            check_before_touching(find(args.kind), online=args.action != "destroy")
        if args.action == "validate":
            validate()
        elif args.action == "plan":
            print(saved_plan(args.kind).markdown())
        elif args.action == "apply":
            apply(args.kind)
        elif args.action == "apply-plan":
            apply_saved(args.kind)
        elif args.action == "destroy":
            destroy(args.kind)
        elif args.action == "drift":
            return drift(args.kind)
        else:
            print(json.dumps(outputs(args.kind), indent=2))
            return 0
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        if args.action != "outputs":  # its stdout is JSON for other tools
            target = "every stack" if args.action == "validate" else args.kind
            print(f"[stackctl] {args.action} {target}: {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
