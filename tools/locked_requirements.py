"""Pipfile.lock as a hashed requirements file, for installers that read one (``make setup`` installs with uv).

``python3 tools/locked_requirements.py [--dev] > requirements.txt``. Standard library only: it runs before any
virtualenv exists. Pipfile and Pipfile.lock stay the one source of truth; this refuses a lock that no longer
pins what the Pipfile asks for (run ``make lock``), so the hashes installed are always the locked ones.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


class LockError(ValueError):
    """The lock does not pin what the Pipfile asks for, or pins a package without hashes."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pin(spec: str | dict) -> str:
    return spec if isinstance(spec, str) else spec.get("version", "*")


def check(pipfile: dict, lock: dict, *, dev: bool) -> None:
    """Every package of the Pipfile's sections is in the lock at the version the Pipfile pins."""
    sections = [("packages", "default")] + ([("dev-packages", "develop")] if dev else [])
    problems = []
    for pipfile_section, lock_section in sections:
        locked = {_canonical(name): entry for name, entry in lock.get(lock_section, {}).items()}
        for name, spec in pipfile.get(pipfile_section, {}).items():
            entry = locked.get(_canonical(name))
            pin = _pin(spec)
            if entry is None:
                problems.append(f"{name} (Pipfile [{pipfile_section}]) is not in Pipfile.lock")
            elif pin.startswith("==") and entry.get("version") != pin:
                problems.append(f"{name}: Pipfile pins {pin}, Pipfile.lock has {entry.get('version')}")
    for section in ("default", "develop") if dev else ("default",):
        problems += [
            f"{name}: no hashes in Pipfile.lock" for name, e in lock.get(section, {}).items() if not e.get("hashes")
        ]
    if problems:
        raise LockError("Pipfile.lock is out of date (run `make lock`): " + "; ".join(problems))


def requirements(lock: dict, *, dev: bool) -> list[str]:
    """One hashed requirement line per locked package (``develop`` entries win, as ``pipenv sync --dev``)."""
    entries = dict(lock.get("default", {}))
    if dev:
        entries |= lock.get("develop", {})
    lines = []
    for name, entry in sorted(entries.items()):
        extras = f"[{','.join(sorted(entry['extras']))}]" if entry.get("extras") else ""
        markers = f"; {entry['markers']}" if entry.get("markers") else ""
        hashes = " ".join(f"--hash={h}" for h in entry["hashes"])
        lines.append(f"{name}{extras}{entry['version']}{markers} {hashes}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="include [dev-packages] (what `pipenv sync --dev` installs)")
    args = parser.parse_args(argv)
    pipfile = tomllib.loads((PROJECT_DIR / "Pipfile").read_text())
    lock = json.loads((PROJECT_DIR / "Pipfile.lock").read_text())
    try:
        check(pipfile, lock, dev=args.dev)
    except LockError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(requirements(lock, dev=args.dev)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
