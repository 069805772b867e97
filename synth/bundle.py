"""Reproducible Lambda bundles: function code plus its pinned dependencies, built for the Lambda platform.

The zip's entries are sorted, timestamped 1980-01-01 and given fixed permissions, so the same sources and
requirements give the same bytes (and SHA-256) on any machine: no spurious redeploys. Dependencies are
binary wheels for the target architecture and Python version, not the build machine's. A bundle is built
once per content hash and then reused from ``.cache/bundles``, beside the installed dependencies every function
of the app shares (one pip install for all their bundles).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_DIR / ".cache" / "bundles"
BUNDLE_FORMAT = "2"  # bump when the zip layout changes
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", "bin"}


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256_base64: str  # what Lambda reports as CodeSha256 and Terraform's source_code_hash expects


def _source_files(source: Path) -> list[Path]:
    return sorted(
        p for p in source.rglob("*") if p.is_file() and not (SKIPPED_PARTS & set(p.parts)) and p.suffix != ".pyc"
    )


def content_key(source: Path, requirements: Path, python_version: str, architecture: str) -> str:
    digest = hashlib.sha256(f"{BUNDLE_FORMAT}|{python_version}|{architecture}|".encode())
    digest.update(requirements.read_bytes())
    for path in _source_files(source):
        digest.update(str(path.relative_to(source.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def build(
    source: Path, requirements: Path, *, python_version: str, architecture: str, cache_dir: Path = CACHE_DIR
) -> Bundle:
    """Zip ``source`` (as a package at the zip root) with ``requirements`` installed beside it.

    ``architecture`` is one of ``PLATFORMS`` (the function's config has already validated it).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{source.name}-{content_key(source, requirements, python_version, architecture)}.zip"
    # Processes that synthesize at once (the test workers on a fresh clone) build each bundle once: the others wait
    # for it rather than run the same pip install beside it.
    with _built_once(target):
        if not target.exists():
            dependencies = _dependencies(requirements, python_version, architecture, cache_dir)
            with tempfile.TemporaryDirectory(dir=cache_dir) as work:
                staging = Path(work) / "staging"
                shutil.copytree(dependencies, staging, symlinks=True)
                shutil.copytree(source, staging / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                partial = Path(work) / "bundle.zip"
                _zip(staging, partial)
                os.replace(partial, target)
    return Bundle(target, base64.b64encode(hashlib.sha256(target.read_bytes()).digest()).decode())


def _dependencies(requirements: Path, python_version: str, architecture: str, cache_dir: Path) -> Path:
    """The requirements installed for the platform, once per requirements file, Python version and architecture:
    every function of the app ships the same set, so one pip install serves all their bundles."""
    digest = hashlib.sha256(f"{BUNDLE_FORMAT}|{python_version}|{architecture}|".encode() + requirements.read_bytes())
    installed = cache_dir / f"dependencies-{digest.hexdigest()[:32]}"
    with _built_once(installed):
        if not installed.exists():
            with tempfile.TemporaryDirectory(dir=cache_dir) as work:
                staging = Path(work) / "staging"
                _install(requirements, staging, python_version, architecture)
                os.replace(staging, installed)
    return installed


@contextmanager
def _built_once(target: Path) -> Iterator[None]:
    """Hold ``target``'s lock while it is checked and built (nothing to wait for once it exists)."""
    if target.exists():
        yield
        return
    with open(target.with_name(f"{target.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _install(requirements: Path, staging: Path, python_version: str, architecture: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--platform",
        PLATFORMS[architecture],
        "--target",
        str(staging),
        "-r",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"installing {requirements} for {architecture}/py{python_version} failed:\n{result.stderr[-2000:]}"
        )


def _zip(staging: Path, destination: Path) -> None:
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted((p.relative_to(staging).as_posix(), p) for p in _source_files(staging)):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
