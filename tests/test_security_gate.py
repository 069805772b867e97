"""The checkov gate: every synthesized stack scanned; a failure passes only if suppressed with a reason."""

import fnmatch
import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from stack_helpers import PROJECT_DIR

CHECKOV = PROJECT_DIR / ".cache" / "checkov" / "bin" / "checkov"
SUPPRESSIONS = tomllib.loads((PROJECT_DIR / "checkov-suppressions.toml").read_text())["suppress"]

pytestmark = pytest.mark.checkov


def _scan(stacks_dir: Path) -> dict:
    """One checkov run over every stack (a run per stack would start checkov, seconds of CPU, once each)."""
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(stacks_dir),
            "--framework",
            "terraform_json",
            "-o",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def _suppression(check_id: str, resource: str, stack: str) -> dict | None:
    name = resource.split(".", 1)[-1]
    return next(
        (
            s
            for s in SUPPRESSIONS
            if s["check"] == check_id
            and any(fnmatch.fnmatch(name, pattern) for pattern in s["resources"])
            and stack in s.get("stacks", [stack])
        ),
        None,
    )


def test_suppressions_each_have_a_reason():
    for entry in SUPPRESSIONS:
        assert entry["check"].startswith("CKV") and entry["resources"]
        assert len(entry["reason"]) >= 30, entry


def test_checkov_finds_no_unexplained_failure_in_any_stack(synth, record_property):
    assert CHECKOV.exists(), "run `make setup` (it installs checkov in its own venv)"
    report = _scan(synth.outdir / "stacks")
    totals = {"passed": report["summary"]["passed"], "failed": 0, "suppressed": 0}
    unexplained, used = [], set()
    for failure in report["results"]["failed_checks"]:
        stack = Path(failure["repo_file_path"]).parent.name
        entry = _suppression(failure["check_id"], failure["resource"], stack)
        if entry:
            totals["suppressed"] += 1
            used.add((entry["check"], tuple(entry["resources"])))
        else:
            totals["failed"] += 1
            unexplained.append(f"{stack}: {failure['check_id']} {failure['resource']} ({failure['check_name']})")
    # --quiet reports failures only; every stack has some (its buckets fail the suppressed CKV2_AWS_62, ...).
    scanned = {Path(c["repo_file_path"]).parent.name for c in report["results"]["failed_checks"]}
    assert scanned == set(synth.stacks), f"checkov reported on {sorted(scanned)}, not on every stack"
    stacks = len(scanned)
    record_property(
        "summary",
        f"checkov: {totals['passed']} passed, {totals['failed']} failed, "
        f"{totals['suppressed']} suppressed across {stacks} stacks",
    )
    assert not unexplained, "unexplained checkov failures:\n" + "\n".join(unexplained)
    stale = [s["check"] for s in SUPPRESSIONS if (s["check"], tuple(s["resources"])) not in used]
    assert not stale, f"suppressions that match nothing (remove them): {stale}"
