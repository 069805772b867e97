"""schemathesis against the local API on the applied stack: docs/openapi.json, fuzzed through everything the
deployed stage puts in front of the function (the key check, the usage plan, the request models, the gateway's
own error bodies), with schemathesis' default checks, including response-schema conformance and auth probes.

A fixed seed and a bounded number of examples per operation keep the run reproducible and about ten seconds.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from stacks.contract import DOCUMENT
from tools.local_api import LocalApi, TokenBucket
from tools.processes import free_port

schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))


@pytest.fixture(scope="module")
def api(deployed):
    runner = LocalApi(free_port()).start()
    # The throttle has its own tests; here every request should reach what is being fuzzed.
    runner.stage_bucket = TokenBucket(rate=10_000, burst=10_000)
    yield runner
    runner.stop()


@pytest.mark.contract
@schema.parametrize()
@seed(20261124)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_local_api_honours_the_contract(api, case):
    key = next(iter(api.api_keys))
    api.key_buckets[key] = TokenBucket(rate=10_000, burst=10_000)
    case.call_and_validate(base_url=api.url, headers={"x-api-key": key})
