"""The layers import only downwards, without cycles, and importing a module has no process-wide side effect.

main.py -> stacks/ -> modules/ ; stacks/ may also use synth/ (bundling) and functions/ (the API's contract);
modules/, synth/ and functions/ import nothing of ours above themselves; operator tooling (tools/) reads the app
through the synth manifest, never by importing it; nothing imports tests/.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from stack_helpers import PROJECT_DIR

PACKAGES = ("main", "stacks", "modules", "synth", "functions", "tools", "tests")
ALLOWED = {
    "main": {"main", "stacks", "synth"},
    "stacks": {"stacks", "modules", "synth", "functions"},
    "modules": {"modules"},
    "synth": {"synth"},
    "functions": {"functions"},
    "tools": {"tools"},
    "tests": set(PACKAGES),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {"main": PROJECT_DIR / "main.py"}
    for package in PACKAGES[1:]:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


SOURCES = _sources()
# tests/ (and tests/functions/) are on sys.path, so their helper modules are also importable by bare name.
TEST_HELPERS = {name.rsplit(".", 1)[-1] for name in SOURCES if name.startswith("tests.")}


def _imports(name: str, path: Path) -> list[tuple[str, bool, int]]:
    """``(imported first-party module, at module level?, line)`` for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` / `try:` blocks at module level still run at import
        if isinstance(node, ast.If | ast.Try):
            top_level |= {id(child) for child in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # `from pkg import x` lists both `pkg` and `pkg.x`; only names that are modules of ours count.
            if target in SOURCES or target.split(".")[0] in TEST_HELPERS:
                found.append((target, id(node) in top_level, node.lineno))
    return found


def _layer(module: str) -> str:
    return module.split(".", maxsplit=1)[0] if module.split(".", maxsplit=1)[0] in PACKAGES else "tests"


def test_every_import_points_down_the_layers():
    upward = []
    for name, path in SOURCES.items():
        for target, _, line in _imports(name, path):
            if _layer(target) not in ALLOWED[_layer(name)]:
                upward.append(f"{path.relative_to(PROJECT_DIR)}:{line} imports {target}")
    assert not upward, "imports that point up or sideways:\n  " + "\n  ".join(upward)


def test_no_function_level_imports_of_our_own_modules_outside_tests():
    hidden = [
        f"{path.relative_to(PROJECT_DIR)}:{line} imports {target} inside a function"
        for name, path in SOURCES.items()
        if _layer(name) != "tests"
        for target, module_level, line in _imports(name, path)
        if not module_level
    ]
    assert not hidden, "\n".join(hidden)


def test_there_are_no_import_cycles():
    graph = {
        name: {t for t, module_level, _ in _imports(name, path) if module_level and t != name}
        for name, path in SOURCES.items()
    }
    # A package's __init__ listed as `pkg` is reached by `from pkg import x`; that is not an edge to its children.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif not state.get(nxt):
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if not state.get(name):
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


SIDE_EFFECT_CHECK = """
import gc, importlib, json, os
from synth import fast_import
if PRELOADED:
    # As the entry points do: provider bindings imported lazily (an eager import costs seconds of CPU). A module
    # that installed it again would show up as a call to install(), not as a changed variable.
    fast_import.install()
    fast_import.settle()
calls = []
install = fast_import.install
fast_import.install = lambda: calls.append(1) or install()
found = {}
for module in MODULES:
    before = dict(os.environ)
    calls.clear()
    importlib.import_module(module)
    changed = sorted(k for k in set(os.environ) | set(before) if os.environ.get(k) != before.get(k))
    found[module] = (["gc off"] if not gc.isenabled() else []) + (["install()"] if calls else []) + changed
print(json.dumps(found))
"""


def _side_effects(*modules: str, preloaded: bool = True) -> dict[str, list[str]]:
    """Import ``modules`` one after another in a fresh interpreter; what each import changed process-wide."""
    env = {k: v for k, v in os.environ.items() if k not in ("NODE_OPTIONS", "JSII_RUNTIME_PACKAGE_CACHE_ROOT")}
    code = f"MODULES = {list(modules)!r}\nPRELOADED = {preloaded!r}\n{SIDE_EFFECT_CHECK}"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_importing_a_module_has_no_process_wide_side_effect():
    modules = [
        "modules.function",
        "modules.api",
        "stacks.service",
        "stacks.environments",
        "tools.stackctl",
        "tools.local_api",
        "tools.release",
        "tools.release_decisions",
    ]
    assert _side_effects(*modules) == {module: [] for module in modules}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("preloaded", "effects"),
    [(False, ["gc off", "install()", "JSII_RUNTIME_PACKAGE_CACHE_ROOT", "NODE_OPTIONS"]), (True, ["install()"])],
    ids=["fresh", "preloaded"],
)
def test_the_entry_point_is_where_the_fast_import_is_installed(preloaded, effects):
    # The control for the test above: main.py installs it, and the check sees that either way.
    assert _side_effects("main", preloaded=preloaded)["main"] == effects


def test_this_test_sees_every_layer():
    assert {_layer(name) for name in SOURCES} == set(PACKAGES)
    assert len(SOURCES) > 40
