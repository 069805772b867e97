"""`make logs` and `make archive` without an emulator: durations, group names, and both archive object shapes."""

from __future__ import annotations

import gzip
import json

import pytest

from tools.archive import lines_of
from tools.logs import log_groups, parse_since, selected
from tools.manifest import Stack, StackError

ENVELOPE = {
    "messageType": "DATA_MESSAGE",
    "logGroup": "/aws/lambda/f",
    "logEvents": [{"id": "1", "timestamp": 1, "message": '{"level":"INFO","message":"a"}'}],
}


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400)])
def test_durations(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["15", "m", "1w", "-1h", "1.5h"])
def test_a_bad_duration_names_the_allowed_forms(text):
    with pytest.raises(ValueError, match=r"--since=.* is invalid: allowed a number and a unit of s, m, h or d"):
        parse_since(text)


def test_real_firehose_output_is_one_line_per_record():
    data = gzip.compress(b'{"level":"INFO","message":"a"}\n{"level":"ERROR","message":"b"}\n')
    assert lines_of(data) == ['{"level":"INFO","message":"a"}', '{"level":"ERROR","message":"b"}']


def test_emulator_envelopes_are_unwrapped_even_when_concatenated():
    second = {**ENVELOPE, "logEvents": [{"id": "2", "timestamp": 2, "message": "plain text"}]}
    assert lines_of((json.dumps(ENVELOPE) + json.dumps(second)).encode()) == [
        '{"level":"INFO","message":"a"}',
        "plain text",
    ]
    assert lines_of(gzip.compress(json.dumps(ENVELOPE).encode() + b"\n")) == ['{"level":"INFO","message":"a"}']


def test_json_lines_that_are_not_envelopes_stay_lines():
    assert lines_of(b'{"a": 1}\n{"b": 2}\n') == ['{"a": 1}', '{"b": 2}']


class _ApiGateway:
    def get_paginator(self, _):
        class Pages:
            def paginate(self):
                return [{"items": [{"name": "serverless-app-local", "id": "abc123"}]}]

        return Pages()


def test_log_groups_are_the_stacks_with_the_rest_api_id_resolved(local, tmp_path):
    (tmp_path / "cdk.tf.json").write_text(json.dumps(local))
    stack = Stack("serverless-app-local", tmp_path)
    groups = log_groups(stack, _ApiGateway())
    assert "API-Gateway-Execution-Logs_abc123/v1" in groups
    assert "/aws/lambda/serverless-app-local-api" in groups
    assert "/aws/apigateway/serverless-app-local/access" in groups
    assert not [g for g in groups if "${" in g]


def test_a_route_group_name_selects_its_function_log_and_other_text_matches_names(local, tmp_path):
    (tmp_path / "cdk.tf.json").write_text(json.dumps(local))
    stack = Stack("serverless-app-local", tmp_path)
    every = log_groups(stack, _ApiGateway())
    # "api" is part of nearly every name; as a route group it means that group's function log only.
    assert selected(stack, every, "api") == ["/aws/lambda/serverless-app-local-api"]
    assert selected(stack, every, "admin") == ["/aws/lambda/serverless-app-local-admin"]
    assert selected(stack, every, "access") == ["/aws/apigateway/serverless-app-local/access"]
    assert selected(stack, every, None) == every
    with pytest.raises(StackError, match=r"--group='nothing' is neither a route group \(api, admin\)"):
        selected(stack, every, "nothing")
