"""The cdktf CLI path a CDKTF team expects: under `make env`'s exports, `cdktf diff` synthesizes with the same app
(cdktf.json runs main.py) into a folder of its own, initializes the bootstrap stack there against the state the
first apply wrote, and finds nothing to change. It is also the proof that re-applying the bootstrap is a no-op (the
local stack's is test_emulator_release.py's drift report, which names the one resource changed by hand)."""

from __future__ import annotations

import os
import shutil
import subprocess

from tools import manifest


def test_cdktf_diff_after_the_bootstrap_apply_shows_no_changes(bootstrapped, tmp_path):
    assert (manifest.PROJECT_DIR / "node_modules" / ".bin" / "cdktf").exists(), "installed by `make setup`"
    # A folder of its own (the other worker runs Terraform in the run's synth meanwhile), holding what `make` leaves
    # in cdktf.out: the provider lock of the stack's first init, so the CLI does not ask the registry for one.
    stack = manifest.find("bootstrap")
    (tmp_path / stack.directory.relative_to(manifest.outdir())).mkdir(parents=True)
    shutil.copy(stack.directory / ".terraform.lock.hcl", tmp_path / stack.directory.relative_to(manifest.outdir()))
    # Exactly what the README says to type.
    script = f'eval "$(make --no-print-directory env)" && cdktf diff serverless-app-bootstrap --output {tmp_path}'
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
    # The diff ran against the bootstrap's state, not an empty one: it read the state bucket back.
    assert f"Refreshing state... [id={bootstrapped.bootstrap['state_bucket_name']}]" in output, output[-3000:]
