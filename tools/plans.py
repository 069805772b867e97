"""One plan driver for CI and people: a saved plan, its JSON, and a Markdown summary a reviewer reads.

``make plan ENV=…`` writes ``cdktf.out/plans/<stack>.tfplan``, ``<stack>.json`` (``terraform show -json``) and
``<stack>.md`` (counts, the addresses, and each changed attribute with its old and new value); ``make apply-plan
ENV=…`` applies exactly that saved file, so what is applied is what was reviewed. A plan that would destroy or
replace what holds data or credentials (a bucket, a key, a log group, a queue, a user pool, a usage plan and the
keys issued into it) is refused with its address, in every environment, and its ``.tfplan`` is never written, so
``apply-plan`` has nothing to apply; name the address in ``ALLOW_DESTROY`` to let it through on purpose (recorded
beside the plan, and checked again when it is applied).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.manifest import Stack, StackError, outdir

# Resources whose loss loses data or credentials: the archive, the access logs, the state bucket and the keys that
# decrypt them; log groups (the lines not yet archived); queues (dead letters); user pools (identities and app
# clients); usage plans and API keys (a replaced plan drops every key `make client` issued into it).
PROTECTED_TYPES = (
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_cloudwatch_log_group",
    "aws_sqs_queue",
    "aws_cognito_user_pool",
    "aws_api_gateway_usage_plan",
    "aws_api_gateway_api_key",
)
# How much of an attribute's old and new value the summary shows.
VALUE_WIDTH = 60


@dataclass(frozen=True)
class PlanFiles:
    binary: Path
    json: Path
    summary: Path
    allowed: Path

    @property
    def pending(self) -> Path:
        """Where Terraform writes the plan until it passes the checks (then it becomes ``binary``)."""
        return self.binary.with_name(self.binary.name + ".pending")


def files_for(stack: Stack, out: Path | None = None) -> PlanFiles:
    folder = (out or outdir()) / "plans"
    return PlanFiles(
        folder / f"{stack.name}.tfplan",
        folder / f"{stack.name}.json",
        folder / f"{stack.name}.md",
        folder / f"{stack.name}.allowed.json",
    )


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
    attributes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    """Changed attributes by address: (attribute, before, after), sensitive values masked."""

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
        if self.attributes:
            lines += ["<details><summary>What changes, attribute by attribute</summary>", ""]
            for address, changed in sorted(self.attributes.items()):
                lines += [f"`{address}`", "", "| attribute | before | after |", "| --- | --- | --- |"]
                lines += [f"| `{name}` | {before} | {after} |" for name, before, after in changed] + [""]
            lines += ["</details>", ""]
        if self.drift:
            lines += [f"**Drift**: {len(self.drift)} resource(s) changed outside Terraform since the last apply:", ""]
            lines += [f"- `{address}`" for address in self.drift] + [""]
        return "\n".join(lines)


def _shown(value: object, sensitive: object, unknown: object = False) -> str:
    if unknown is True:
        return "(known after apply)"
    if sensitive is True or (sensitive and not isinstance(sensitive, dict | list)):
        return "(sensitive)"
    if value is None:
        return "—"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    if isinstance(sensitive, dict | list) and sensitive:
        text = "(partly sensitive)"
    text = text.replace("|", "\\|").replace("\n", " ")
    return f"`{text[:VALUE_WIDTH]}…`" if len(text) > VALUE_WIDTH else f"`{text}`"


def changed_attributes(change: dict) -> list[tuple[str, str, str]]:
    """The top-level attributes an update or replacement changes, as (name, before, after) for a reviewer."""
    body = change["change"]
    before, after = body.get("before") or {}, body.get("after") or {}
    unknown = body.get("after_unknown") or {}
    masked_before, masked_after = body.get("before_sensitive") or {}, body.get("after_sensitive") or {}
    names = sorted(set(before) | set(after) | {k for k, v in unknown.items() if v})
    return [
        (
            name,
            _shown(before.get(name), masked_before.get(name)),
            _shown(after.get(name), masked_after.get(name), unknown.get(name)),
        )
        for name in names
        if before.get(name) != after.get(name) or unknown.get(name) is True
    ]


def summarize(plan: dict, stack_name: str, allowed: set[str] | None = None) -> Summary:
    """Read ``terraform show -json``'s output of a saved plan."""
    allowed = allowed or set()
    counts: Counter = Counter()
    changes, refused = [], []
    attributes: dict[str, list[tuple[str, str, str]]] = {}
    for change in plan.get("resource_changes", []):
        action = _action(change["change"]["actions"])
        counts[action] += 1
        if action == "no-op":
            continue
        changes.append((action, change["address"]))
        if action in ("change", "replace"):
            attributes[change["address"]] = changed_attributes(change)
        if action in ("replace", "destroy") and change["type"] in PROTECTED_TYPES and change["address"] not in allowed:
            refused.append(change["address"])
    drift = [d["address"] for d in plan.get("resource_drift", []) if _action(d["change"]["actions"]) != "no-op"]
    return Summary(stack_name, counts, changes, drift, refused, attributes)


def allowed_destroys(environ: dict | None = None) -> set[str]:
    environ = os.environ if environ is None else environ
    return {a.strip() for a in environ.get("ALLOW_DESTROY", "").split(",") if a.strip()}


def write(stack: Stack, plan_json: dict, files: PlanFiles) -> Summary:
    allowed = allowed_destroys()
    summary = summarize(plan_json, stack.name, allowed)
    files.json.write_text(json.dumps(plan_json, indent=1, sort_keys=True))
    files.summary.write_text(summary.markdown())
    files.allowed.write_text(json.dumps(sorted(allowed)))
    return summary


def recorded_allowances(files: PlanFiles) -> set[str]:
    """The ``ALLOW_DESTROY`` addresses the saved plan was made with (what ``apply-plan`` checks it against)."""
    return set(json.loads(files.allowed.read_text())) if files.allowed.exists() else set()


def refuse_if_protected(summary: Summary) -> None:
    if summary.refused:
        raise StackError(
            f"{summary.stack}: the plan would destroy or replace {', '.join(summary.refused)}; these hold data "
            "(logs, state, or the keys that decrypt them). If that is really intended, set "
            f"ALLOW_DESTROY={','.join(summary.refused)} and plan again."
        )
