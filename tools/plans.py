"""One plan driver for CI and people: a saved plan, its JSON, and a Markdown summary a reviewer reads.

``make plan ENV=…`` writes ``cdktf.out/plans/<stack>.tfplan``, ``<stack>.json`` (``terraform show -json``) and
``<stack>.md``; ``make apply-plan ENV=…`` applies exactly that saved file, so what is applied is what was
reviewed. A plan that would destroy or replace a data-holding resource (a bucket, a KMS key) is refused with its
address, in every environment; name the address in ``ALLOW_DESTROY`` to let it through on purpose.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.manifest import Stack, StackError, outdir

# Resources whose loss loses data: the archive, the access logs, the state bucket and the keys that decrypt them.
PROTECTED_TYPES = ("aws_s3_bucket", "aws_kms_key")


@dataclass(frozen=True)
class PlanFiles:
    binary: Path
    json: Path
    summary: Path


def files_for(stack: Stack, out: Path | None = None) -> PlanFiles:
    folder = (out or outdir()) / "plans"
    return PlanFiles(folder / f"{stack.name}.tfplan", folder / f"{stack.name}.json", folder / f"{stack.name}.md")


def _action(actions: list[str]) -> str:
    if actions in (["no-op"], ["read"]):
        return "no-op"
    if "delete" in actions and "create" in actions:
        return "replace"
    return {"create": "add", "update": "change", "delete": "destroy"}.get(actions[0], actions[0])


@dataclass(frozen=True)
class Summary:
    """What a plan would do: counts by action, the addresses that matter, drift, and refused addresses."""

    stack: str
    counts: Counter
    changes: list[tuple[str, str]]
    drift: list[str]
    refused: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(self.counts[a] for a in ("add", "change", "replace", "destroy"))

    def markdown(self) -> str:
        c = self.counts
        head = (
            f"### `{self.stack}`: {c['add']} to add, {c['change']} to change, {c['replace']} to replace, "
            f"{c['destroy']} to destroy"
        )
        lines = [head, ""]
        if self.refused:
            lines += ["**Refused**: this plan would destroy or replace data-holding resources:", ""]
            lines += [f"- `{address}`" for address in self.refused] + [""]
        if not self.has_changes:
            lines += ["No changes: what is deployed matches the code.", ""]
        else:
            lines += ["| action | address |", "| --- | --- |"]
            order = {"destroy": 0, "replace": 1, "change": 2, "add": 3}
            lines += [
                f"| {action} | `{address}` |"
                for action, address in sorted(self.changes, key=lambda change: (order.get(change[0], 9), change[1]))
            ]
            lines.append("")
        if self.drift:
            lines += [f"**Drift**: {len(self.drift)} resource(s) changed outside Terraform since the last apply:", ""]
            lines += [f"- `{address}`" for address in self.drift] + [""]
        return "\n".join(lines)


def summarize(plan: dict, stack_name: str, allowed: set[str] | None = None) -> Summary:
    """Read ``terraform show -json``'s output of a saved plan."""
    allowed = allowed or set()
    counts: Counter = Counter()
    changes, refused = [], []
    for change in plan.get("resource_changes", []):
        action = _action(change["change"]["actions"])
        counts[action] += 1
        if action == "no-op":
            continue
        changes.append((action, change["address"]))
        if action in ("replace", "destroy") and change["type"] in PROTECTED_TYPES and change["address"] not in allowed:
            refused.append(change["address"])
    drift = [d["address"] for d in plan.get("resource_drift", []) if _action(d["change"]["actions"]) != "no-op"]
    return Summary(stack_name, counts, changes, drift, refused)


def allowed_destroys(environ: dict | None = None) -> set[str]:
    environ = os.environ if environ is None else environ
    return {a.strip() for a in environ.get("ALLOW_DESTROY", "").split(",") if a.strip()}


def write(stack: Stack, plan_json: dict, files: PlanFiles) -> Summary:
    summary = summarize(plan_json, stack.name, allowed_destroys())
    files.json.write_text(json.dumps(plan_json, indent=1, sort_keys=True))
    files.summary.write_text(summary.markdown())
    return summary


def refuse_if_protected(summary: Summary) -> None:
    if summary.refused:
        raise StackError(
            f"{summary.stack}: the plan would destroy or replace {', '.join(summary.refused)}; these hold data "
            "(logs, state, or the keys that decrypt them). If that is really intended, set "
            f"ALLOW_DESTROY={','.join(summary.refused)} and plan again."
        )
