"""The local API's caller checks, as API Gateway's: the JWT verification table of a Cognito authorizer (against the
JWKS the emulator's pools publish), and SigV4 signatures recomputed with botocore."""

from __future__ import annotations

import gzip
import json
import time
from importlib import resources

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwk

from tools import tokens
from tools.authorizers import CognitoAuthorizer, SigV4Verifier

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
PUBLIC = json.loads(
    gzip.decompress((resources.files("moto.cognitoidp") / "resources" / "jwks-public.json.gz").read_bytes())
)
NOW = 1_800_000_000


def _authorizer() -> CognitoAuthorizer:
    fetched = []

    def fetch(url):
        fetched.append(url)
        return json.dumps(PUBLIC).encode()

    authorizer = CognitoAuthorizer(
        ISSUER, "http://emulator/us-east-1_TestPool/.well-known/jwks.json", fetch, clock=lambda: NOW
    )
    authorizer.fetched = fetched
    return authorizer


def _token(**changes) -> str:
    claims = tokens.client_credentials_claims(ISSUER, "client-1", ["events/write"], 60, now=NOW - 10)
    claims.update(changes)
    return tokens.sign({k: v for k, v in claims.items() if v is not None})


OTHER_KEY = jwk.RSAKey.generate_key(2048)

# (case, Authorization header, the method's scopes, status)
TABLE = [
    ("a valid access token with the scope", _token(), ("events/write",), 200),
    ("the same token as a bearer token", "Bearer " + _token(), ("events/write",), 200),
    ("one of several scopes is enough", _token(scope="events/read"), ("events/read", "events/write"), 200),
    ("no header", None, ("events/write",), 401),
    ("not a JWT", "not-a-token", ("events/write",), 401),
    ("a JWT of two parts", "eyJhbGciOiJIUzI1NiJ9.e30", ("events/write",), 401),
    ("expired", _token(exp=NOW - 1), ("events/write",), 401),
    (
        "another pool's issuer",
        _token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
        ("events/write",),
        401,
    ),
    (
        "signed with another key under the pool's key id",
        tokens.sign(tokens.client_credentials_claims(ISSUER, "c", ["events/write"], 60, now=NOW), OTHER_KEY),
        ("events/write",),
        401,
    ),
    (
        "signed with a key the pool does not publish",
        tokens.sign(
            tokens.client_credentials_claims(ISSUER, "c", ["events/write"], 60, now=NOW), OTHER_KEY, kid="other"
        ),
        ("events/write",),
        401,
    ),
    (
        "an ID token where scopes are required",
        _token(token_use="id", aud="client-1", client_id=None),
        ("events/write",),
        401,
    ),
    ("an access token without its app client", _token(client_id=None), ("events/write",), 401),
    ("a valid token without the scope", _token(scope="events/read"), ("events/write",), 403),
    (
        "a user's token (Cognito's own scope only)",
        _token(scope="aws.cognito.signin.user.admin"),
        ("events/write",),
        403,
    ),
]


@pytest.mark.parametrize(("case", "header", "scopes", "status"), TABLE, ids=[row[0] for row in TABLE])
def test_the_cognito_authorizer_decides_as_api_gateway_does(case, header, scopes, status):
    verdict = _authorizer().check(header, scopes)
    assert verdict.status == status, verdict.message
    if status == 200:
        assert verdict.claims["client_id"] == "client-1" and "events/" in verdict.claims["scope"]


def test_the_table_covers_every_way_a_token_is_refused():
    refusals = {case for case, _, _, status in TABLE if status != 200}
    for kind in ("no header", "not a JWT", "expired", "another pool", "another key", "without the scope"):
        assert any(kind in case for case in refusals), kind


def test_the_pools_keys_are_fetched_once_and_again_for_an_unknown_key_id():
    authorizer = _authorizer()
    assert authorizer.check(_token(), ("events/write",)).allowed
    assert authorizer.check(_token(), ("events/write",)).allowed
    assert len(authorizer.fetched) == 1
    claims = tokens.client_credentials_claims(ISSUER, "c", ["events/write"], 60, now=NOW)
    assert authorizer.check(tokens.sign(claims, OTHER_KEY, kid="rotated"), ("events/write",)).status == 401
    assert len(authorizer.fetched) == 2  # a key id it had not seen: the pool may have rotated its keys


def test_a_minted_client_token_has_cognitos_claims():
    claims = tokens.client_credentials_claims(ISSUER, "client-1", ["events/write", "events/read"], 60, now=NOW)
    assert claims["sub"] == claims["client_id"] == "client-1"
    assert claims["token_use"] == "access" and claims["scope"] == "events/write events/read"
    assert claims["exp"] - claims["iat"] == 3600 and claims["iss"] == ISSUER
    # Verifiable with exactly what the emulator's pools publish.
    assert {key["kid"] for key in PUBLIC["keys"]} == {tokens.EMULATOR_KEY_ID}


def _signed(
    key: str,
    secret: str,
    *,
    url="https://abc.execute-api.us-east-1.amazonaws.com/v1/internal/events",
    service="execute-api",
    body=b'{"type":"t","payload":{}}',
) -> dict[str, str]:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


VERIFIER = SigV4Verifier({"AKIDEXAMPLE": ("secret", "arn:aws:iam::123456789012:role/caller")})
URL = "https://abc.execute-api.us-east-1.amazonaws.com/v1/internal/events"
BODY = b'{"type":"t","payload":{}}'


def test_a_request_signed_with_a_known_key_is_admitted_as_its_principal():
    verdict = VERIFIER.check("POST", URL, _signed("AKIDEXAMPLE", "secret"), BODY)
    assert verdict.allowed and verdict.claims["userArn"] == "arn:aws:iam::123456789012:role/caller"


@pytest.mark.parametrize(
    ("case", "headers", "body", "message"),
    [
        ("unsigned", {"Content-Type": "application/json"}, BODY, "Missing Authentication Token"),
        ("a wrong secret", _signed("AKIDEXAMPLE", "wrong"), BODY, "signature we calculated does not match"),
        ("an unknown key", _signed("AKIDOTHER", "secret"), BODY, "security token included in the request is invalid"),
        ("another service", _signed("AKIDEXAMPLE", "secret", service="lambda"), BODY, "service 'execute-api'"),
        (
            "a body changed after signing",
            _signed("AKIDEXAMPLE", "secret"),
            b'{"type":"x","payload":{}}',
            "does not match",
        ),
    ],
)
def test_a_request_not_signed_as_api_gateway_requires_is_refused(case, headers, body, message):
    verdict = VERIFIER.check("POST", URL, headers, body)
    assert verdict.status == 403 and message in verdict.message, verdict.message


def test_the_local_api_answers_as_the_stage_for_each_refusal(local):
    """The gateway's order and statuses against the synthesized local stack, without an emulator."""
    from tools.local_api.gateway import Admitted, Gateway
    from tools.local_api.stage import read_stage
    from tools.manifest import Stack

    stack = Stack("serverless-app-local", __import__("pathlib").Path("/nonexistent"))
    object.__setattr__(stack, "tf", local)
    gateway = Gateway(read_stage(stack), keys=lambda: {"key-1"}, cognito=_authorizer(), sigv4=VERIFIER)
    gateway.cognito.clock = time.time
    fresh = tokens.sign(tokens.client_credentials_claims(ISSUER, "client-1", ["events/write"], 60))

    def status(method, path, headers, body=b"", key="key-1"):
        answer = gateway.admit(method, f"/v1{path}", f"https://x{path}", headers, body, key=key)
        return 200 if isinstance(answer, Admitted) else answer[0]

    post = {"Content-Type": "application/json"}
    event = b'{"type":"t","payload":{}}'
    assert status("POST", "/events", {**post, "Authorization": fresh}, event) == 200
    assert status("POST", "/events", post, event) == 401
    assert status("POST", "/events", {**post, "Authorization": fresh}, event, key="wrong") == 403
    assert status("GET", "/whoami", {"Authorization": fresh}) == 200
    read_only = tokens.sign(tokens.client_credentials_claims(ISSUER, "client-1", ["events/read"], 60))
    assert status("POST", "/events", {**post, "Authorization": read_only}, event) == 403
    assert status("GET", "/health", {}) == 200 and status("GET", "/health", {}, key=None) == 403
    assert status("POST", "/internal/events", post, event, key=None) == 403
    assert (
        status(
            "POST",
            "/internal/events",
            {**post, **_signed("AKIDEXAMPLE", "secret", url="https://x/internal/events", body=event)},
            event,
            key=None,
        )
        == 200
    )
    # A preflight needs neither token nor key, and names only the configured origin.
    answer = gateway.admit(
        "OPTIONS", "/v1/events", "https://x/events", {"Origin": "http://localhost:3000"}, b"", key=None
    )
    assert answer[0] == 204 and answer[2]["Access-Control-Allow-Origin"] == "http://localhost:3000"
    foreign = gateway.admit(
        "OPTIONS", "/v1/events", "https://x/events", {"Origin": "https://evil.example"}, b"", key=None
    )
    assert "Access-Control-Allow-Origin" not in foreign[2]
    # The stage's own error bodies, with the CORS headers a browser needs to read them.
    refused = gateway.admit(
        "POST", "/v1/events", "https://x/events", {**post, "Origin": "http://localhost:3000"}, event, key="key-1"
    )
    assert refused[0] == 401 and json.loads(refused[1])["error"] == "unauthorized"
    assert refused[2]["Access-Control-Allow-Origin"] == "http://localhost:3000"
