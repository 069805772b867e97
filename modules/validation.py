"""Small validators shared by the config dataclasses: each error names the field, the value and what is allowed."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any


class ConfigError(ValueError):
    """A configuration value that cannot be deployed; raised before any Terraform runs."""


def fail(field: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{field}={value!r} is invalid: allowed {allowed}")


def check_type(field: str, value: Any, expected: type | tuple[type, ...]) -> None:
    # bool is an int in Python; a flag passed where a number belongs is still a mistake.
    bad_bool = isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,))
    if bad_bool or not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise fail(field, value, f"a value of type {names}")


def check_range(field: str, value: Any, low: float, high: float, unit: str = "") -> None:
    check_type(field, value, (int, float))
    if not low <= value <= high:
        raise fail(field, value, f"{low}..{high}{' ' + unit if unit else ''}")


def check_int_range(field: str, value: Any, low: int, high: int, unit: str = "") -> None:
    check_type(field, value, int)
    check_range(field, value, low, high, unit)


def check_choice(field: str, value: Any, choices: Collection[Any]) -> None:
    if value not in choices:
        raise fail(field, value, "one of " + ", ".join(repr(c) for c in sorted(choices, key=str)))


def check_pattern(field: str, value: Any, pattern: str, description: str) -> None:
    check_type(field, value, str)
    if not re.fullmatch(pattern, value):
        raise fail(field, value, description)


def check_each(field: str, values: Iterable[Any], check) -> None:
    check_type(field, values, tuple)
    for index, value in enumerate(values):
        check(f"{field}[{index}]", value)


# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)

# S3 bucket naming rules, without the dotted forms that break virtual-hosted TLS.
BUCKET_NAME = r"(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
BUCKET_NAME_HELP = "3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"
