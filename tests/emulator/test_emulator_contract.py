"""schemathesis against the local API on the applied stack: docs/openapi.json, fuzzed through everything the
deployed stage puts in front of the function (the key check, the usage plan, the request models, the gateway's
own error bodies, and the caller checks: token, scope, signature), with schemathesis' default checks, including
response-schema conformance and auth probes.

A fixed seed and a bounded number of examples per operation keep the run reproducible and about ten seconds.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, seed, settings
from schemathesis.specs.openapi.checks import missing_required_header

from modules.openapi import operations
from stacks.contract import DOCUMENT
from tools import tokens
from tools.local_api import LocalApi, TokenBucket
from tools.processes import free_port

schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
ACCESS = {(op.method, op.path): op.access for op in operations(json.loads(DOCUMENT.read_text()))}


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
def test_the_local_api_honours_the_contract(api, token, case):
    # Authenticated as each operation asks: a token with every scope and the key, or a SigV4 signature of the
    # request as sent. schemathesis' auth probes (ignored_auth) then send each without it and expect the refusal.
    key = next(iter(api.api_keys))
    api.key_buckets[key] = TokenBucket(rate=10_000, burst=10_000)
    if ACCESS[(case.operation.method.upper(), case.operation.path)].authorization == "AWS_IAM":
        session = requests.Session()
        session.auth = SigV4()
        case.call_and_validate(base_url=api.url, session=session, excluded_checks=[missing_required_header])
    else:
        case.call_and_validate(base_url=api.url, headers={"x-api-key": key, "Authorization": token})


class SigV4(requests.auth.AuthBase):
    """Signs each request as sent (method, URL, body, headers) with the emulator's credentials."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # schemathesis fills the scheme's header when a case is meant to be authorized and leaves it out when it probes
        # a missing one: only the first is signed (replacing its generated value), so the probe stays unsigned.
        if "Authorization" not in request.headers:
            return request
        del request.headers["Authorization"]
        signed = AWSRequest(method=request.method, url=request.url, data=request.body, headers=dict(request.headers))
        SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@pytest.fixture(scope="module")
def token(deployed):
    return tokens.token("local", name="tests")
