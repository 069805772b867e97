"""The cdktf CLI path a CDKTF team expects: under `make env`'s exports, `cdktf diff` of the applied local stack
synthesizes with the same app (cdktf.json runs main.py) and finds nothing to change. It is also the proof that
re-applying the local stack is a no-op: its plan is Terraform's, against the state the first apply wrote."""

from __future__ import annotations

import os
import subprocess

from tools import manifest


def test_cdktf_diff_after_apply_shows_no_changes(deployed):
    assert (manifest.PROJECT_DIR / "node_modules" / ".bin" / "cdktf").exists(), "installed by `make setup`"
    # Exactly what the README says to type.
    script = f'eval "$(make --no-print-directory env)" && cdktf diff serverless-app-local --output {manifest.outdir()}'
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=manifest.PROJECT_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "No changes" in output, output[-3000:]
