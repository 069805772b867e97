"""What API Gateway checks before a method runs, for the local API: a Cognito user pool's token, or a SigV4
signature.

``CognitoAuthorizer`` checks a token as a ``COGNITO_USER_POOLS`` authorizer does: the ``Authorization`` header (the
token, or ``Bearer <token>``), an RS256 signature by a key of the pool's JWKS (fetched from the pool, and fetched
again for a key id it has not seen), ``iss`` the pool, ``exp`` in the future, the token kind the method needs (an
access token when it lists scopes, an ID token when it lists none), the app client (``client_id``, or ``aud`` of
an ID token), and one of the method's scopes. A missing, malformed, expired, foreign or wrongly signed token is a
401; a valid token without the scope a 403.

``SigV4Verifier`` checks that a request is signed for ``execute-api`` in the region with a key it knows (the
emulator's), recomputing the signature with botocore. It cannot evaluate IAM or the API's resource policy: the
request simulation (tests/simulation) does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from joserfc import jwk, jwt
from joserfc.errors import JoseError

REGION = "us-east-1"
CLOCK_SKEW_SECONDS = 0


@dataclass(frozen=True)
class Verdict:
    """The authorizer's answer: 200 to let the request through with ``claims``; else the status and why."""

    status: int
    message: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.status == 200


def _refused(message: str) -> Verdict:
    return Verdict(401, message)


class CognitoAuthorizer:
    """One user pool's token check; ``fetch`` reads a URL (the pool's JWKS) and is replaceable in tests."""

    def __init__(self, issuer: str, jwks_url: str, fetch: Callable[[str], bytes] | None = None, clock=time.time):
        self.issuer, self.jwks_url, self.clock = issuer, jwks_url, clock
        self.fetch = fetch or _fetch
        self._keys: dict[str, jwk.RSAKey] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str) -> jwk.RSAKey | None:
        with self._lock:
            if kid not in self._keys:
                document = json.loads(self.fetch(self.jwks_url))
                self._keys = {k["kid"]: jwk.RSAKey.import_key(k) for k in document.get("keys", []) if k.get("kid")}
            return self._keys.get(kid)

    def check(self, header: str | None, scopes: tuple[str, ...]) -> Verdict:
        if not header:
            return _refused("Unauthorized")
        raw = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        try:
            token = jwt.decode(raw, self._key_for, algorithms=["RS256"])
        except (JoseError, ValueError, KeyError, TypeError) as error:
            return _refused(f"Unauthorized ({type(error).__name__})")
        claims = dict(token.claims)
        now = self.clock()
        if claims.get("iss") != self.issuer:
            return _refused("Unauthorized (another issuer)")
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now - CLOCK_SKEW_SECONDS:
            return _refused("The incoming token has expired")
        expected = "access" if scopes else "id"
        if claims.get("token_use") != expected:
            return _refused(f"Unauthorized (a {expected} token is required)")
        if not (claims.get("client_id") if expected == "access" else claims.get("aud")):
            return _refused("Unauthorized (no app client)")
        if scopes and not set(str(claims.get("scope", "")).split()) & set(scopes):
            return Verdict(403, "Forbidden: the token has none of the scopes " + ", ".join(scopes), claims)
        return Verdict(200, "", claims)

    def _key_for(self, token: Any) -> jwk.RSAKey:
        kid = token.headers().get("kid")
        key = self._key(kid) if kid else None
        if key is None:
            raise ValueError("no key of the pool signed this token")
        return key


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


_CREDENTIAL = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


class SigV4Verifier:
    """Checks SigV4 signatures made with known keys: ``{access key id: (secret, principal ARN)}``."""

    def __init__(self, keys: dict[str, tuple[str, str]], region: str = REGION) -> None:
        self.keys, self.region = keys, region

    def check(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Verdict:
        lower = {k.lower(): v for k, v in headers.items()}
        found = _CREDENTIAL.fullmatch(lower.get("authorization", "").strip())
        if not found:
            return Verdict(403, "Missing Authentication Token")
        if found["service"] != "execute-api" or found["region"] != self.region:
            return Verdict(403, "Credential should be scoped to a valid region and to service 'execute-api'")
        secret, principal = self.keys.get(found["key"], (None, None))
        if secret is None:
            return Verdict(403, "The security token included in the request is invalid.")
        signed = found["signed"].split(";")
        request = AWSRequest(method=method, url=url, data=body, headers={h: lower[h] for h in signed if h in lower})
        request.context["timestamp"] = lower.get("x-amz-date", "")
        auth = SigV4Auth(
            Credentials(found["key"], secret, lower.get("x-amz-security-token")), "execute-api", self.region
        )
        # botocore's own steps, with the request's timestamp rather than now.
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if expected != found["signature"]:
            return Verdict(403, "The request signature we calculated does not match the signature you provided.")
        return Verdict(200, "", {"userArn": principal, "accessKey": found["key"]})
