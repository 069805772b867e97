"""Two people plan against the deployed local stack at the same time, as on a team: someone has suspended the
archive's versioning by hand and runs `make drift`, while a developer plans a change of the code. Both read the
state without its lock, so they run side by side (two Terraform plans overlapped on the serial chain): `make drift`
(the CLI, in a process of its own) reports exactly the hand-made change, and the plan driver's summary lists the
code change while it refuses the replacement of the archive bucket by address."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from stack_helpers import synthesize_changed

from tools import manifest, plans, stackctl
from tools.manifest import StackError


@dataclass(frozen=True)
class SideBySide:
    drift_exit: int
    drift_report: str
    refused: str
    summary: str
    plan_files: plans.PlanFiles
    out: Path


def _code_change(config):
    bucket = replace(config.log_archive.bucket, name="serverless-app-local-archive")
    return replace(config.with_function(memory_size_mb=384), log_archive=replace(config.log_archive, bucket=bucket))


@pytest.fixture(scope="module")
def side_by_side(deployed, tmp_path_factory) -> SideBySide:
    s3 = deployed.client("s3")
    s3.put_bucket_versioning(
        Bucket=deployed.outputs["log_bucket_name"], VersioningConfiguration={"Status": "Suspended"}
    )
    drift = subprocess.Popen(
        [sys.executable, "-m", "tools.stackctl", "drift", "local"],
        cwd=manifest.PROJECT_DIR,
        env=dict(os.environ),  # the deployed stack's folder, taken before the code change points elsewhere
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            out = synthesize_changed(monkeypatch, tmp_path_factory.mktemp("changed") / "out", "local", _code_change)
            with pytest.raises(StackError, match=r"would destroy or replace ") as refused:
                stackctl.saved_plan("local", capture=True)
            files = plans.files_for(manifest.find("local"), out)
        report, _ = drift.communicate(timeout=600)
    finally:
        if drift.poll() is None:
            drift.kill()
    return SideBySide(drift.returncode, report, str(refused.value), files.summary.read_text(), files, out)


def test_make_drift_reports_exactly_the_change_made_by_hand(side_by_side, record_property):
    assert side_by_side.drift_exit == 2, side_by_side.drift_report[-3000:]
    assert "DRIFT in serverless-app-local: 1 resource(s) differ" in side_by_side.drift_report
    assert "aws_s3_bucket_versioning.log_archive_versioning" in side_by_side.drift_report
    record_property("summary", "drift: versioning suspended by hand reported by `make drift` (exit 2), beside a plan")


def test_a_plan_summarizes_every_change_and_refuses_to_replace_the_archive_bucket(side_by_side, monkeypatch):
    # Its name is part of the access-log bucket's too: both are named, and how to let it through on purpose.
    assert re.search(
        r"replace aws_s3_bucket\.log_archive_access_logs_bucket_\w+, aws_s3_bucket\.log_archive_bucket_\w+;",
        side_by_side.refused,
    )
    assert "ALLOW_DESTROY=aws_s3_bucket.log_archive_access_logs_bucket_" in side_by_side.refused
    # What a reviewer reads: the plan's JSON and a summary that lists the change, attribute by attribute, beside the
    # refusal. The refused plan itself is not kept: `make apply-plan` has nothing to apply.
    files = side_by_side.plan_files
    assert files.json.exists() and not files.binary.exists() and not files.pending.exists()
    text = side_by_side.summary
    assert text.startswith("### `serverless-app-local`: ") and "**Refused**" in text
    assert "| change | `aws_lambda_function." in text
    assert "| `memory_size` | `256` | `384` |" in text
    monkeypatch.setenv("CDKTF_OUTDIR", str(side_by_side.out))
    with pytest.raises(StackError, match="is missing: run `make plan ENV=local` first"):
        stackctl.apply_saved("local", capture=True)
