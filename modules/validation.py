"""Config validation: every error names the field, the value and what is allowed, and all of them are reported at once.

Each config dataclass validates in ``__post_init__`` with a :class:`Checks` and calls :meth:`Checks.done`. Outside
:func:`collect_errors` that raises one :class:`ConfigError` listing every bad field of that config; inside it the
problems are recorded instead, so building all environments reports every bad field of every config in one error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class ConfigError(ValueError):
    """One or more configuration values that cannot be deployed; raised before any Terraform runs."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} invalid settings:\n  " + "\n  ".join(self.problems)
        super().__init__(message)


_collector: ContextVar[list[str] | None] = ContextVar("config_errors", default=None)


@contextmanager
def collect_errors() -> Iterator[list[str]]:
    """Record config errors raised inside the block and raise them together, as one ``ConfigError``, at its end."""
    problems: list[str] = []
    token = _collector.set(problems)
    try:
        yield problems
    except ConfigError as error:  # a hard stop (e.g. a value that other checks cannot even read)
        problems.extend(p for p in error.problems if p not in problems)
    finally:
        _collector.reset(token)
    if problems:
        # The same shared setting (e.g. TF_STATE_REGION, read by every environment) is reported once.
        raise ConfigError(list(dict.fromkeys(problems)))


def report(problems: list[str]) -> None:
    """Raise ``problems`` as one ``ConfigError``, or record them when :func:`collect_errors` is active."""
    if not problems:
        return
    sink = _collector.get()
    if sink is None:
        raise ConfigError(problems)
    sink.extend(problems)


def message(field: str, value: Any, allowed: str) -> str:
    return f"{field}={value!r} is invalid: allowed {allowed}"


def fail(field: str, value: Any, allowed: str) -> ConfigError:
    """A single-field error, for code paths that cannot continue (raise it)."""
    return ConfigError(message(field, value, allowed))


def _types(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


class Checks:
    """Collects the problems of one config object; ``prefix`` is prepended to every field name.

    Each check returns whether the value passed, so dependent checks can be skipped instead of crashing on a value
    of the wrong type.
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = f"{prefix}." if prefix else ""
        self.problems: list[str] = []

    def add(self, field: str, value: Any, allowed: str) -> bool:
        self.problems.append(message(self.prefix + field, value, allowed))
        return False

    def type(self, field: str, value: Any, expected: type | tuple[type, ...]) -> bool:
        types = _types(expected)
        # bool is an int in Python; a flag passed where a number belongs is still a mistake.
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            return self.add(field, value, "a value of type " + " or ".join(t.__name__ for t in types))
        return True

    def range(self, field: str, value: Any, low: float, high: float, unit: str = "") -> bool:
        if not self.type(field, value, (int, float)):
            return False
        if not low <= value <= high:
            return self.add(field, value, f"{_number(low)}..{_number(high)}{' ' + unit if unit else ''}")
        return True

    def int_range(self, field: str, value: Any, low: int, high: int, unit: str = "") -> bool:
        return self.type(field, value, int) and self.range(field, value, low, high, unit)

    def choice(self, field: str, value: Any, choices: Collection[Any]) -> bool:
        if value not in choices:
            return self.add(field, value, "one of " + ", ".join(repr(c) for c in sorted(choices, key=str)))
        return True

    def pattern(self, field: str, value: Any, regex: str, description: str) -> bool:
        if not self.type(field, value, str):
            return False
        if not re.fullmatch(regex, value):
            return self.add(field, value, description)
        return True

    def each(self, field: str, values: Any, check: Callable[[str, Any], bool]) -> bool:
        if not self.type(field, values, tuple):
            return False
        return all([check(f"{field}[{index}]", value) for index, value in enumerate(values)])

    def that(self, condition: bool, field: str, value: Any, allowed: str) -> bool:
        """A rule of its own: record ``allowed`` for ``field`` unless ``condition`` holds."""
        return True if condition else self.add(field, value, allowed)

    def done(self) -> None:
        report(self.problems)


# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# S3 bucket naming rules, without the dotted forms that break virtual-hosted TLS.
BUCKET_NAME = r"(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
BUCKET_NAME_HELP = "3-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit"


def _number(value: float) -> str:
    """A bound as a reader writes it: 2000000000, not 2e+09; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value}"
