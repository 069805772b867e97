"""The config checks every module uses: each names the field, its value and what is allowed; a config reports all
of its bad fields at once; inside ``collect_errors`` every config's problems come out together, each once."""

from __future__ import annotations

import pytest

from modules.validation import Checks, ConfigError, collect_errors, fail


def test_each_check_names_the_field_the_value_and_what_is_allowed():
    checks = Checks("widget")
    assert checks.type("count", "3", int) is False
    assert checks.range("ratio", 1.5, 0, 1) is False
    assert checks.int_range("size", 0, 1, 10, "MB") is False
    assert checks.choice("mode", "fast", ("slow", "safe")) is False
    assert checks.pattern("name", "a b", r"[a-z]+", "letters") is False
    assert checks.that(True, "fine", 1, "anything") is True
    assert checks.type("ok", True, bool) is True
    with pytest.raises(ConfigError) as raised:
        checks.done()
    assert [p.split(" is invalid")[0] for p in raised.value.problems] == [
        "widget.count='3'",
        "widget.ratio=1.5",
        "widget.size=0",
        "widget.mode='fast'",
        "widget.name='a b'",
    ]
    assert "widget.mode='fast' is invalid: allowed one of 'safe', 'slow'" in raised.value.problems
    assert str(raised.value).startswith("5 invalid settings:\n  widget.count='3' is invalid: allowed")


def test_range_bounds_are_written_as_a_reader_writes_them():
    checks = Checks()
    checks.int_range("limit", 1, 100, 2_000_000_000)
    checks.range("share", 1.0, 0.1, 0.9)
    with pytest.raises(ConfigError) as raised:
        checks.done()
    assert raised.value.problems == [
        "limit=1 is invalid: allowed 100..2000000000",
        "share=1.0 is invalid: allowed 0.1..0.9",
    ]


def test_a_bool_is_not_a_number():
    checks = Checks()
    assert checks.int_range("n", True, 0, 5) is False
    with pytest.raises(ConfigError, match=r"n=True is invalid"):
        checks.done()


def test_each_problem_of_every_config_in_the_block_is_raised_once_at_its_end():
    with pytest.raises(ConfigError) as raised, collect_errors():
        for _ in range(2):  # the same shared setting read twice is reported once
            checks = Checks()
            checks.that(False, "region", "eu-west-1", "only 'us-east-1'")
            checks.done()
        other = Checks()
        other.that(False, "name", "", "a name")
        other.done()
    assert raised.value.problems == [
        "region='eu-west-1' is invalid: allowed only 'us-east-1'",
        "name='' is invalid: allowed a name",
    ]


def test_a_hard_stop_inside_the_block_joins_what_was_collected():
    with pytest.raises(ConfigError) as raised, collect_errors():
        checks = Checks()
        checks.that(False, "b", 1, "2")
        checks.done()
        raise fail("c", 1, "3")
    assert raised.value.problems == ["b=1 is invalid: allowed 2", "c=1 is invalid: allowed 3"]
