"""The lean provider import changes nothing in the output: byte-identical to a plain (eager) synth."""

import os
import subprocess
import sys

import pytest
from stack_helpers import PROJECT_DIR

pytestmark = pytest.mark.slow


def _synth(outdir, eager: bool) -> dict[str, bytes]:
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir), "BASELINE_EAGER_IMPORT": "1" if eager else "0"}
    # The project's synth (`make synth`) runs with -O; the plain one is a naive eager import without it.
    command = [sys.executable, "main.py"] if eager else [sys.executable, "-O", "main.py"]
    subprocess.run(command, cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def test_fast_synth_output_is_byte_identical_to_an_eager_synth(tmp_path):
    fast = _synth(tmp_path / "fast", eager=False)
    eager = _synth(tmp_path / "eager", eager=True)
    assert any(name.endswith("cdk.tf.json") for name in fast)
    assert fast.keys() == eager.keys()
    assert [name for name in fast if fast[name] != eager[name]] == []


def test_install_registers_a_bare_package_only_once():
    code = ("from tools import fast_import; import sys; first = fast_import.install(); "
            "import cdktf_cdktf_provider_aws.s3_bucket as m; second = fast_import.install(); "
            "print(first, second, hasattr(sys.modules['cdktf_cdktf_provider_aws'], 'acm_certificate'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    # The other 2,000 submodules were never imported.
    assert out.stdout.split() == ["True", "False", "False"]
