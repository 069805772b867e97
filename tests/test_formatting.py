"""One formatting authority: the tree is `ruff format`-clean and `ruff check`-clean."""

import subprocess
import sys

from stack_helpers import PROJECT_DIR


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )


def test_the_tree_is_formatted():
    result = _ruff("format", "--check", ".")
    assert result.returncode == 0, f"run `make format`:\n{result.stdout}{result.stderr}"


def test_the_tree_is_lint_clean():
    result = _ruff("check", ".")
    assert result.returncode == 0, result.stdout
