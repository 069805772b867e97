"""Clients, issued outside Terraform: a key in the stage's usage plan works at once on the local API, a rotation
keeps both keys working until the old one is retired, a revoked client is refused; none of it is in the state."""

import json
import time
import urllib.error
import urllib.request

import pytest

from tools import clients, stackctl
from tools.local_api import LocalApi
from tools.manifest import StackError
from tools.processes import free_port

# How often this runner reads the usage plan's keys again: shorter than `make serve`'s 2 s, so that each change is
# seen within a fraction of a second, by the same mechanism.
KEYS_TTL_SECONDS = 0.25


@pytest.fixture(scope="module")
def api(deployed):
    runner = LocalApi(free_port(), keys_ttl_seconds=KEYS_TTL_SECONDS).start()
    yield runner
    runner.stop()


def _status(api, key: str) -> int:
    request = urllib.request.Request(api.url + "/health", headers={"x-api-key": key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _eventually(api, key: str, status: int) -> int:
    deadline = time.monotonic() + 10  # a poll: a passing run waits about one TTL
    while (seen := _status(api, key)) != status and time.monotonic() < deadline:
        time.sleep(0.05)
    return seen


def test_a_client_lifecycle_issue_rotate_retire_revoke(deployed, api):
    issuer = clients.issuer("local")
    issued = issuer.issue("acme")
    assert _eventually(api, issued.api_key, 200) == 200  # no restart: the runner reads the plan's keys again
    with pytest.raises(StackError, match="client 'acme' exists"):
        issuer.issue("acme")
    assert issued.client_id and issued.client_secret and issued.scopes == ("events/read", "events/write")
    rotated = issuer.rotate("acme")
    assert {c.client: len(c.api_key_ids) for c in issuer.list()}["acme"] == 2
    assert _eventually(api, rotated["api_key"], 200) == 200 and _status(api, issued.api_key) == 200
    retired = issuer.rotate("acme", retire=True)
    assert retired["retired_api_key_ids"] == [issued.api_key_id]
    assert _eventually(api, issued.api_key, 403) == 403 and _status(api, rotated["api_key"]) == 200
    revoked = issuer.revoke("acme")
    assert revoked == {"revoked_api_key_ids": [rotated["api_key_id"]], "revoked_client_id": issued.client_id}
    assert _eventually(api, rotated["api_key"], 403) == 403
    assert "acme" not in {c.client for c in issuer.list()}
    # A client may be limited to some of the scopes.
    reader = issuer.issue("reader", ("events/read",))
    assert reader.scopes == ("events/read",)
    with pytest.raises(
        StackError, match=r"SCOPES='events/admin' is invalid: allowed some of events/read, events/write"
    ):
        issuer.issue("admin", ("events/admin",))
    issuer.revoke("reader")
    # The fixture's client is untouched.
    assert _status(api, deployed.credentials["api_key"]) == 200


def test_no_key_value_is_in_the_state(deployed):
    state = stackctl.terraform(stackctl.find("local"), "state", "pull", capture=True).stdout
    assert deployed.credentials["api_key"] not in state
    assert "aws_api_gateway_api_key" not in json.dumps(json.loads(state)["resources"])


def test_a_bad_client_name_is_refused_naming_what_is_allowed(deployed):
    with pytest.raises(StackError, match=r"NAME='Acme Corp' is invalid: allowed 2-31 characters of a-z, 0-9 and '-'"):
        clients.issuer("local").issue("Acme Corp")
