"""`make setup` installs the lock's hashes: the lock as a requirements file, refused when it no longer pins the
Pipfile."""

import json
import tomllib

import pytest
from stack_helpers import PROJECT_DIR

from tools.locked_requirements import LockError, check, requirements

PIPFILE = tomllib.loads((PROJECT_DIR / "Pipfile").read_text())
LOCK = json.loads((PROJECT_DIR / "Pipfile.lock").read_text())


def test_the_lock_pins_every_package_the_pipfile_asks_for():
    check(PIPFILE, LOCK, dev=True)


def test_every_requirement_is_pinned_and_hashed_with_its_markers_and_extras():
    lines = requirements(LOCK, dev=True)
    assert len(lines) == len(LOCK["default"].keys() | LOCK["develop"].keys())
    for line in lines:
        assert "==" in line.split(" ", 1)[0] and "--hash=sha256:" in line, line
    powertools = next(line for line in lines if line.startswith("aws-lambda-powertools"))
    assert powertools.startswith("aws-lambda-powertools[tracer]==3.37.0; python_version >= '3.10'")
    # Without --dev, only what the app needs (pytest is a dev package).
    assert not any(line.startswith("pytest==") for line in requirements(LOCK, dev=False))


def test_a_lock_behind_the_pipfile_is_refused_naming_the_package():
    pipfile = {**PIPFILE, "packages": {**PIPFILE["packages"], "boto3": "==0.0.1", "left-out": "==1.0"}}
    with pytest.raises(LockError, match=r"run `make lock`.*boto3: Pipfile pins ==0\.0\.1.*left-out .*not in"):
        check(pipfile, LOCK, dev=False)
    unhashed = {**LOCK, "default": {**LOCK["default"], "boto3": {**LOCK["default"]["boto3"], "hashes": []}}}
    with pytest.raises(LockError, match="boto3: no hashes"):
        check(PIPFILE, unhashed, dev=False)
