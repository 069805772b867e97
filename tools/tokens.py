"""``make token [SCOPES=events/write] [NAME=<client>] [AS_USER=1]``: an access token for calling the API.

On a real account: the client-credentials grant at the user pool's token endpoint, with the client's id and secret
(``CLIENT_ID``/``CLIENT_SECRET``, as `make client` printed them). ``AS_USER=1`` signs in a test user the administrator
created instead (``ADMIN_USER_PASSWORD_AUTH`` through an app client made for it); Cognito grants such a token only
``aws.cognito.signin.user.admin``, so the API answers it 403: a valid token without the scope.

On the emulator, whose Cognito has no token endpoint, the client-credentials token is signed with the emulator's
own key (the one its pool publishes at ``/<pool id>/.well-known/jwks.json``), claim for claim as Cognito's
endpoint issues it; ``AS_USER=1`` gets a token from the emulator's Cognito itself. Either way the local API verifies
the token as API Gateway does: against the JWKS the pool serves.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import os
import secrets
import sys
import time
import urllib.parse
import urllib.request
import uuid
from importlib import resources
from typing import Any

from joserfc import jwk, jwt

from tools import clients, manifest, stackctl
from tools.aws import clients_for
from tools.manifest import StackError

TEST_USER = "test-user"
# The key id of the emulator's published JWKS (moto's fixed signing key).
EMULATOR_KEY_ID = "dummy"


def emulator_signing_key() -> jwk.RSAKey:
    """The private half of the key the emulator's user pools publish (moto ships it with its Cognito)."""
    raw = (resources.files("moto.cognitoidp") / "resources" / "jwks-private.json.gz").read_bytes()
    return jwk.RSAKey.import_key(json.loads(gzip.decompress(raw)))


def client_credentials_claims(
    issuer: str, client_id: str, scopes: list[str], validity_minutes: int, now: int | None = None
) -> dict[str, Any]:
    """The claims of an access token Cognito's token endpoint issues for the client-credentials grant."""
    now = int(time.time()) if now is None else now
    return {
        "sub": client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": now,
        "iss": issuer,
        "exp": now + validity_minutes * 60,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": client_id,
    }


def sign(claims: dict[str, Any], key: jwk.RSAKey | None = None, kid: str = EMULATOR_KEY_ID) -> str:
    """A JWT of ``claims`` signed RS256 (with the emulator's key unless another is given)."""
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key or emulator_signing_key())


def from_token_endpoint(token_url: str, client_id: str, client_secret: str, scopes: list[str]) -> str:
    """The client-credentials grant (RFC 6749 4.4) at a Cognito domain's ``/oauth2/token``."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    request = urllib.request.Request(
        token_url,
        method="POST",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": " ".join(scopes)}).encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def user_token(cognito: Any, user_pool_id: str, app_client_name: str) -> str:
    """An access token of the pool's test user (created, with a random password, on first use)."""
    found = [
        c
        for c in cognito.list_user_pool_clients(UserPoolId=user_pool_id, MaxResults=60)["UserPoolClients"]
        if c["ClientName"] == app_client_name
    ]
    client_id = (
        found[0]["ClientId"]
        if found
        else cognito.create_user_pool_client(
            UserPoolId=user_pool_id,
            ClientName=app_client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    )
    password = "Aa1!" + secrets.token_urlsafe(24)
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(UserPoolId=user_pool_id, Username=TEST_USER, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=TEST_USER, Password=password, Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=user_pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": TEST_USER, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]["AccessToken"]


def token(kind: str, *, scopes: list[str] | None = None, name: str | None = None, user: bool = False) -> str:
    stack = manifest.find(kind)
    outputs = stackctl.outputs(kind)  # once: each read is a Terraform run
    identity = clients.IdentitySettings.of(outputs.get("identity_settings"))
    if identity is None:
        raise StackError(f"{stack.name} has no identity: its operations take no token")
    if user:
        return user_token(clients_for(stack)("cognito-idp"), identity.user_pool_id, f"{stack.name}-{TEST_USER}")
    wanted = scopes or list(identity.scopes)
    if stack.emulated:
        credentials = clients.local_client() if name in (None, clients.LOCAL_CLIENT) else None
        client_id = credentials.client_id if credentials else _client_id(kind, name, outputs)
        granted = set(credentials.scopes) if credentials else set(identity.scopes)
        refused = sorted(set(wanted) - granted)
        if refused:
            raise StackError(
                f"SCOPES={','.join(wanted)!r} is invalid: the client may ask for {', '.join(sorted(granted))}"
            )
        claims = client_credentials_claims(identity.issuer, client_id, wanted, identity.access_token_validity_minutes)
        return sign(claims)
    client_id, secret = os.environ.get("CLIENT_ID"), os.environ.get("CLIENT_SECRET")
    if not (client_id and secret):
        raise StackError("set CLIENT_ID and CLIENT_SECRET to the client's credentials (make client printed them)")
    if not identity.token_url:
        raise StackError(f"{stack.name}'s user pool has no token endpoint (identity.token_endpoint is off)")
    return from_token_endpoint(identity.token_url, client_id, secret, wanted)


def _client_id(kind: str, name: str | None, outputs: dict[str, object]) -> str:
    listed = {c.client: c for c in clients.issuer(kind, outputs).list()}
    if name not in listed or not listed[name].client_id:
        raise StackError(f"no client {name!r} with an app client: issue it first (make client NAME={name})")
    return listed[name].client_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--scopes", default="", help="comma-separated scopes (default: all the client may have)")
    parser.add_argument("--name", default=None, help="the client (emulator; default the one `make up` issued)")
    parser.add_argument("--user", action="store_true", help="a test user's token instead (no API scope)")
    args = parser.parse_args(argv)
    try:
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()] or None
        print(token(args.kind, scopes=scopes, name=args.name, user=args.user))
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
