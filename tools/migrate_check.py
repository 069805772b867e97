"""`make migrate-check`: would this app move to CDK Terrain, the maintained fork of the archived CDKTF?

In a side virtualenv (``.cache/cdktn``, never the project's), the same ``main.py`` synthesizes with ``cdktn`` and
``cdktn-provider-aws`` (prebuilt bindings of the ``hashicorp/aws`` 6.x provider) through the smallest shim that
works: an import alias of ``cdktf`` to ``cdktn`` and of ``cdktf_cdktf_provider_aws`` to ``cdktn_provider_aws``, no
edit of the code. Each stack's ``cdk.tf.json`` is then compared with today's resource by resource and attribute by
attribute, ignoring only what is documented to differ (the provider's version constraint, construct metadata).
The report is printed and kept as ``docs/MIGRATION.md``.

What cannot be proven offline: the local provider mirror has only 5.100.0, so nothing runs ``terraform validate``
or a plan against 6.x; the report says which differences a 6.x plan would then show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.manifest import PLACEHOLDER_DEPLOYMENT, PROJECT_DIR

CDKTN = ("cdktn==0.24.0", "cdktn-provider-aws==25.8.1")
# What the app imports besides CDKTF (the contract imports the handler's package), at the lock's versions.
APP_PACKAGES = ("aws-lambda-powertools", "pydantic", "pydantic-core", "boto3")
SIDE_VENV = PROJECT_DIR / ".cache" / "cdktn"
REPORT = PROJECT_DIR / "docs" / "MIGRATION.md"
UV = PROJECT_DIR / ".cache" / "uv" / "bin" / "uv"
# Why a known difference exists: the 6.x provider's changes this app meets (its upgrade guide says more).
REASONS = {
    "reset_on_delete": "the 5.x provider documents `aws_api_gateway_account.reset_on_delete` as deprecated, to be "
    "removed in 6.0, where deleting the resource resets the account's settings by itself: drop the argument",
    "required_providers.aws.version": "the bindings pin the provider they were generated from (6.x)",
    "required_providers.aws.source": "the same provider, spelled in full (`hashicorp/aws`)",
}
# Keys that differ by construction, not by meaning.
IGNORED_TOP = ("//",)

SHIM = '''
import importlib, importlib.abc, importlib.util, sys

ALIASES = {"cdktf": "cdktn", "cdktf_cdktf_provider_aws": "cdktn_provider_aws"}


class Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import cdktf.x`` imports ``cdktn.x`` and registers it under both names."""

    def find_spec(self, name, path=None, target=None):
        root = name.split(".", 1)[0]
        if root in ALIASES:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        root, _, rest = spec.name.partition(".")
        module = importlib.import_module(ALIASES[root] + ("." + rest if rest else ""))
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, Alias())

# Only the submodules the stacks use, as `make synth` imports today's bindings (an eager import of all ~2,500 takes
# half a minute); the node half stays eager (its preload knows only CDKTF's barrel). Were this to change the output,
# the comparison with today's synth would show it.
from synth import fast_import

fast_import.install("cdktn_provider_aws")
'''
# Today's bindings, imported as `make synth` imports them (synth/fast_import.py; tests/test_fast_import.py proves the
# output the same as an eager import's).
LEAN_TODAY = "from synth import fast_import\nfast_import.install()\n"

# Each stack in its own app, so that one stack that does not synthesize does not hide the others.
DRIVER = """
import json, sys, traceback
from pathlib import Path

from cdktf import App

from stacks import environments, policy
from stacks.bootstrap import BootstrapStack
from stacks.bootstrap_config import bootstrap_config
from stacks.service import ServiceStack

out, project, results = Path(sys.argv[1]), sys.argv[2], {}
configs = environments.load()
builders = {
    c.stack_name: (lambda app, c=c: ServiceStack(app, c.stack_name, config=c)) for c in configs.values() if c.deployable
}
bootstrap = bootstrap_config(configs)
name = f"{bootstrap.environment.app_name}-bootstrap"
builders[name] = lambda app: BootstrapStack(app, name, config=bootstrap)
for stack, build in builders.items():
    (out / stack).mkdir(parents=True)
    app = App(outdir=str(out / stack))
    try:
        build(app)
        policy.enforce(app)
        app.synth()
        manifest = json.loads((out / stack / "manifest.json").read_text())
        results[stack] = {"path": str(out / stack / manifest["stacks"][stack]["synthesizedStackPath"])}
    except Exception as error:
        frames = [
            f for f in traceback.extract_tb(error.__traceback__)
            if f.filename.startswith(project) and "/.cache/" not in f.filename and "site-packages" not in f.filename
        ]
        at = f"{Path(frames[-1].filename).relative_to(project)}:{frames[-1].lineno}" if frames else "?"
        results[stack] = {"error": f"{type(error).__name__}: {error}".splitlines()[0], "at": at}
print("RESULTS " + json.dumps(results))
"""


def _lock_pins() -> list[str]:
    lock = json.loads((PROJECT_DIR / "Pipfile.lock").read_text())["default"]
    pins = []
    for name in APP_PACKAGES:
        entry = lock[name]
        extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
        pins.append(f"{name}{extras}{entry['version']}")
    return pins


def ensure_side_venv() -> Path:
    """The side virtualenv with CDK Terrain and the app's other packages (made once, kept in ``.cache``)."""
    python = SIDE_VENV / "bin" / "python"
    marker = SIDE_VENV / ".installed"
    wanted = "\n".join([*CDKTN, *_lock_pins()])
    if marker.exists() and marker.read_text() == wanted:
        return python
    subprocess.run([str(UV), "venv", "--quiet", "--clear", "--python", "python3", str(SIDE_VENV)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(SIDE_VENV)}
    subprocess.run([str(UV), "pip", "install", "--quiet", *CDKTN, *_lock_pins()], check=True, env=env)
    marker.write_text(wanted)
    return python


def synthesize(python: Path, outdir: Path, *, shim: Path | None, environ: dict[str, str]) -> dict[str, dict]:
    """Each stack's ``cdk.tf.json`` as ``python`` synthesizes it (through the shim when given), or its error."""
    env = {**os.environ, **environ}
    env["PYTHONPATH"] = os.pathsep.join([*([str(shim)] if shim else []), str(PROJECT_DIR)])
    prelude = "import sitecustomize\n" if shim else LEAN_TODAY
    command = [str(python), "-c", prelude + DRIVER, str(outdir), str(PROJECT_DIR) + os.sep]
    run = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    found = [line for line in run.stdout.splitlines() if line.startswith("RESULTS ")]
    if run.returncode != 0 or not found:
        raise RuntimeError(f"synth with {python} failed:\n{run.stdout[-2000:]}{run.stderr[-4000:]}")
    results = json.loads(found[-1].removeprefix("RESULTS "))
    return {
        name: json.loads(Path(result["path"]).read_text()) if "path" in result else {"error": result}
        for name, result in results.items()
    }


@dataclass
class StackDiff:
    """The differences of one stack: resources only on one side, and attributes that differ."""

    name: str
    resources: int = 0
    equal: int = 0
    only_today: list[str] = field(default_factory=list)
    only_cdktn: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)
    broken: dict[str, str] | None = None
    """Where the stack failed to synthesize with CDK Terrain: the error and the project's line that raised it."""


def _paths(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        found = {}
        for key, inner in value.items():
            if key == "//":
                continue
            found |= _paths(inner, f"{prefix}.{key}" if prefix else key)
        return found or ({prefix: {}} if prefix else {})
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        found = {}
        for index, inner in enumerate(value):
            found |= _paths(inner, f"{prefix}[{index}]")
        return found
    return {prefix: value}


def compare(name: str, today: dict, cdktn: dict) -> StackDiff:
    diff = StackDiff(name)
    if "error" in cdktn:
        diff.resources = sum(len(group) for group in today.get("resource", {}).values())
        diff.broken = cdktn["error"]
        return diff
    ours, theirs = today.get("resource", {}), cdktn.get("resource", {})
    keys = {(t, n) for t, group in ours.items() for n in group}
    other_keys = {(t, n) for t, group in theirs.items() for n in group}
    diff.resources = len(keys)
    diff.only_today = sorted(f"{t}.{n}" for t, n in keys - other_keys)
    diff.only_cdktn = sorted(f"{t}.{n}" for t, n in other_keys - keys)
    for type_, resource in sorted(keys & other_keys):
        left, right = _paths(ours[type_][resource]), _paths(theirs[type_][resource])
        changes = [
            f"{path}: {json.dumps(left.get(path, '(absent)'))[:80]} -> {json.dumps(right.get(path, '(absent)'))[:80]}"
            for path in sorted(left.keys() | right.keys())
            if left.get(path, "(absent)") != right.get(path, "(absent)")
        ]
        if changes:
            diff.changed[f"{type_}.{resource}"] = changes
        else:
            diff.equal += 1
    for section in sorted((today.keys() | cdktn.keys()) - {"resource", *IGNORED_TOP}):
        left, right = _paths(today.get(section, {})), _paths(cdktn.get(section, {}))
        for path in sorted(left.keys() | right.keys()):
            if left.get(path) != right.get(path):
                diff.other.append(
                    f"{section}.{path}: {json.dumps(left.get(path))[:80]} -> {json.dumps(right.get(path))[:80]}"
                )
    return diff


def _reason(text: str) -> str:
    found = [reason for key, reason in REASONS.items() if key in text]
    return f": {found[0]}" if found else ""


def render(diffs: list[StackDiff], *, seconds: float) -> str:
    lines = [
        "# Migrating to CDK Terrain: what `make migrate-check` found",
        "",
        f"Written by `make migrate-check` ({', '.join(CDKTN)}, today's `cdktf==0.21.0` and "
        f"`cdktf-cdktf-provider-aws==20.1.0`), {time.strftime('%Y-%m-%d')}, in {seconds:.0f} s. The app ran unchanged "
        "through an import alias (`cdktf` -> `cdktn`, `cdktf_cdktf_provider_aws` -> `cdktn_provider_aws`) in a side "
        "virtualenv; each stack's Terraform JSON is compared with today's, resource by resource and attribute by "
        "attribute (construct metadata `//` ignored).",
        "",
        "| stack | resources | equal | changed | only today | only CDK Terrain | other sections changed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in diffs:
        if d.broken:
            lines.append(f"| {d.name} | {d.resources} | does not synthesize (below) | | | | |")
            continue
        lines.append(
            f"| {d.name} | {d.resources} | {d.equal} | {len(d.changed)} | {len(d.only_today)} | {len(d.only_cdktn)} "
            f"| {len(d.other)} |"
        )
    broken = [d for d in diffs if d.broken]
    if broken:
        lines += ["", "## What would break", ""]
        lines += [
            f"- {d.name}: `{d.broken['error']}` at `{d.broken['at']}`{_reason(d.broken['error'])}" for d in broken
        ]
    for d in diffs:
        if not (d.changed or d.only_today or d.only_cdktn or d.other):
            continue
        lines += ["", f"## {d.name}", ""]
        lines += [f"- only today: `{r}`" for r in d.only_today]
        lines += [f"- only with CDK Terrain: `{r}`" for r in d.only_cdktn]
        for resource, changes in d.changed.items():
            lines.append(f"- `{resource}`: " + "; ".join(f"`{c}`" for c in changes[:6]))
        lines += [f"- `{c}`{_reason(c)}" for c in d.other[:20]]
    lines += [
        "",
        "## What this cannot prove offline",
        "",
        "The local provider mirror has `hashicorp/aws` 5.100.0 only, so no `terraform validate` or plan ran against "
        "the 6.x provider the CDK Terrain bindings generate for. An attribute that is equal here can still be "
        "rejected or planned differently by 6.x (read the provider's 6.0 upgrade guide for each changed resource "
        "type before moving a real account), and state written by 5.x is upgraded by 6.x on its first plan.",
        "",
        "## The steps a team would take",
        "",
        "1. Replace the two pins in the Pipfile (`cdktf`, `cdktf-cdktf-provider-aws`) with the CDK Terrain ones "
        "above and rename the imports (`cdktf` -> `cdktn`, `cdktf_cdktf_provider_aws` -> `cdktn_provider_aws`; a "
        "search and replace, or keep the alias this check uses).",
        "2. Put the 6.x provider in the Terraform CLI config's mirror (`AWS_PROVIDER_VERSION` in the Makefile) and "
        "run `make test`: the synth tests compare the JSON, `terraform validate` and the emulator tests then run on "
        "6.x.",
        "3. Plan each real environment (`make plan ENV=dev`) and read the plan: only the changes listed above, and "
        "none that replaces a bucket, key or log group (the plan refuses those).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``--report PATH`` writes the report there instead of docs/MIGRATION.md."""
    argv = sys.argv[1:] if argv is None else argv
    report_path = Path(argv[1]) if len(argv) == 2 and argv[0] == "--report" else REPORT
    started = time.perf_counter()
    environ = PLACEHOLDER_DEPLOYMENT
    python = ensure_side_venv()
    with tempfile.TemporaryDirectory(prefix="migrate-check-") as work:
        shim = Path(work) / "shim"
        shim.mkdir()
        (shim / "sitecustomize.py").write_text(SHIM)
        today = synthesize(Path(sys.executable), Path(work) / "today", shim=None, environ=environ)
        if any("error" in stack for stack in today.values()):
            raise RuntimeError(f"today's synth failed: {today}")
        cdktn = synthesize(python, Path(work) / "cdktn", shim=shim, environ=environ)
    diffs = [compare(name, today[name], cdktn.get(name, {})) for name in sorted(today)]
    report = render(diffs, seconds=time.perf_counter() - started)
    report_path.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
