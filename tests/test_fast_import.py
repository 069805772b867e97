"""The lean provider import changes nothing in the output: byte-identical to a plain (eager) synth."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stack_helpers import DEPLOYED, PROJECT_DIR

pytestmark = pytest.mark.slow


ADDED_LATER = ("plans", "validate")


def _written(outdir: Path) -> dict[str, bytes]:
    """What a synth wrote (not what Terraform adds when a stack is initialized or planned, nor the scratch root of
    `make validate`, which another worker may have added to the run's synth)."""

    def synthesized(path: Path) -> bool:
        parts = path.relative_to(outdir).parts
        return path.is_file() and not any(part.startswith(".terraform") or part in ADDED_LATER for part in parts)

    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if synthesized(p)}


def test_fast_synth_output_is_byte_identical_to_an_eager_synth(synth, tmp_path):
    # The session's synth is the lean one (tests/conftest.py installs it, as main.py does); the plain one is a naive
    # eager import, in a process of its own.
    env = {**os.environ, **DEPLOYED, "CDKTF_OUTDIR": str(tmp_path / "eager"), "BASELINE_EAGER_IMPORT": "1"}
    subprocess.run([sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    fast, eager = _written(synth.outdir), _written(tmp_path / "eager")
    assert any(name.endswith("cdk.tf.json") for name in fast)
    assert fast.keys() == eager.keys()
    assert [name for name in fast if fast[name] != eager[name]] == []


def test_install_registers_a_bare_package_only_once():
    code = (
        "from synth import fast_import; import sys; first = fast_import.install(); "
        "import cdktf_cdktf_provider_aws.s3_bucket as m; second = fast_import.install(); "
        "print(first, second, hasattr(sys.modules['cdktf_cdktf_provider_aws'], 'acm_certificate'))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    # The other 2,000 submodules were never imported.
    assert out.stdout.split() == ["True", "False", "False"]


PRELOAD = PROJECT_DIR / "synth" / "fast_import.cjs"


def _node(script: str, *args: str, eager: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "BASELINE_EAGER_IMPORT": "1" if eager else "0", "NODE_OPTIONS": ""}
    return subprocess.run(
        ["node", "--require", str(PRELOAD), "-e", script, "--", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _barrel(root, package: str) -> str:
    """A package shaped like a prebuilt provider: a barrel index of two modules, one of which must not load."""
    lib = root / "node_modules" / package / "lib"
    modules = {"used": "exports.Used = class Used {};", "unused": 'throw new Error("unused module loaded");'}
    for name, body in modules.items():
        (lib / name).mkdir(parents=True)
        (lib / name / "index.js").write_text(f'"use strict";\n{body}\n')
    (lib / "index.js").write_text(
        '"use strict";\nexports.unused = exports.used = void 0;\n'
        'exports.used = require("./used");\nexports.unused = require("./unused");\n'
    )
    return str(lib / "index.js")


def test_node_preload_loads_a_provider_barrel_export_on_first_use(tmp_path):
    index = _barrel(tmp_path, "@cdktf/provider-fake")
    script = (
        "const m = require(process.argv[1]); const used = typeof m.used.Used;"
        "console.log(Object.keys(m).join(','), used, Object.getOwnPropertyDescriptor(m, 'used').get);"
    )
    result = _node(script, index)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["used,unused", "function", "undefined"]  # replaced by the value once loaded
    touched = _node("require(process.argv[1]).unused", index)
    assert "unused module loaded" in touched.stderr


def test_node_preload_is_off_when_eager_and_for_other_packages(tmp_path):
    assert (
        "unused module loaded"
        in _node("require(process.argv[1])", _barrel(tmp_path, "@cdktf/provider-fake"), eager=True).stderr
    )
    assert "unused module loaded" in _node("require(process.argv[1])", _barrel(tmp_path, "other")).stderr


def test_the_pinned_provider_index_is_lazy_in_node(synth):
    # The synth fixture unpacked the provider into the jsii cache. Outside the jsii runtime `cdktf` does not
    # resolve, so an eager index (a provider layout the preload does not recognise) fails here outright.
    cache = Path(os.environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"])
    [index] = cache.glob("@cdktf/provider-aws/*/*/lib/index.js")
    script = (
        "const m = require(process.argv[1]);"
        "const lazy = Object.keys(m).filter((k) => Object.getOwnPropertyDescriptor(m, k).get).length;"
        "const loaded = Object.keys(require.cache).filter((f) => f.startsWith(process.argv[2])).length;"
        "console.log(Object.keys(m).length, lazy, loaded)"
    )
    result = _node(script, str(index), str(index.parent.parent))
    assert result.returncode == 0, result.stderr
    exports, lazy, modules_loaded = map(int, result.stdout.split())
    assert exports > 2000 and lazy == exports
    assert modules_loaded == 1  # the index itself


def test_synth_starts_the_jsii_runtime_with_the_preload():
    # Node reads NODE_OPTIONS once, at start: main.py must install before `import cdktf` launches it.
    code = (
        "import main, os\n"
        "for task in os.listdir('/proc/self/task'):\n"
        "    for pid in open(f'/proc/self/task/{task}/children').read().split():\n"
        "        print(open(f'/proc/{pid}/environ', 'rb').read().replace(b'\\0', b'\\n').decode())\n"
    )
    env = {**os.environ, "NODE_OPTIONS": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert f'NODE_OPTIONS=--require "{PRELOAD}"' in out.splitlines()
