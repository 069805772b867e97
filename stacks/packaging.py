"""Builds each function's deployment package at synth time and hands it to the construct as ``LambdaCode``."""

from __future__ import annotations

from pathlib import Path

from modules.function_config import FunctionConfig, LambdaCode
from modules.validation import fail
from synth import bundle

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"


def lambda_code(config: FunctionConfig) -> LambdaCode:
    """The reproducible zip of ``functions/<package of config.handler>`` with the pinned requirements."""
    source = FUNCTIONS_DIR / config.package
    if not source.is_dir():
        raise fail("function.handler", config.handler, f"a handler whose package is a folder under {FUNCTIONS_DIR}")
    built = bundle.build(source, REQUIREMENTS, python_version=config.python_version, architecture=config.architecture)
    return LambdaCode(zip_path=built.path, sha256_base64=built.sha256_base64)
