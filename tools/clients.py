"""The API's clients: ``make client NAME=<client>`` issues one its credentials, ``make clients`` lists them,
``make client-rotate`` and ``make client-revoke`` rotate and revoke them.

A client gets two things: an app client in the environment's user pool, which gets access tokens by the
client-credentials grant with the scopes it is allowed (its identity), and an API key in the stage's usage plan
(its throttle and daily quota: metering, not identity). Credentials are issued here, never by Terraform: a key or
secret Terraform creates is written, in plain text, into its state and into every saved plan, and every role that
plans reads the state. The stack defines the pool, its scopes and the usage plan (its ``identity_settings`` and
``usage_plan_id`` outputs); this tool puts clients in them, named ``<stack>-<client>``.

``python -m tools.clients issue|list|rotate|revoke ENV [--name N] [--scopes a,b] [--retire]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tools import manifest, stackctl
from tools.aws import clients_for
from tools.manifest import Stack, StackError

NAME = r"[a-z][a-z0-9-]{1,30}"
CLIENT_TAG = "client"


@dataclass(frozen=True)
class Credentials:
    """What a client receives once: keep it in the client's secret store."""

    client: str
    api_key_id: str
    api_key: str
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Client:
    """A client as the account holds it (no secret values)."""

    client: str
    api_key_ids: tuple[str, ...]
    client_id: str | None = None
    scopes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class IdentitySettings:
    """The stack's ``identity_settings`` output."""

    user_pool_id: str
    issuer: str
    token_url: str
    scopes: tuple[str, ...]
    access_token_validity_minutes: int
    created: bool

    @classmethod
    def of(cls, value: object) -> IdentitySettings | None:
        if value in (None, "null", ""):
            return None
        data = json.loads(value) if isinstance(value, str) else dict(value)  # type: ignore[arg-type]
        return cls(**{**data, "scopes": tuple(data["scopes"])})


class Issuer:
    """Issues, lists, rotates and revokes the clients of one stack: app clients and usage-plan keys."""

    def __init__(
        self,
        stack: Stack,
        clients: Callable[[str], Any],
        usage_plan_id: str,
        identity: IdentitySettings | None = None,
    ) -> None:
        self.stack, self.usage_plan_id, self.identity = stack, usage_plan_id, identity
        self.apigateway = clients("apigateway")
        self.cognito = clients("cognito-idp") if identity else None

    def _name(self, client: str) -> str:
        return f"{self.stack.name}-{client}"

    # --- API keys ----------------------------------------------------------------------------------------------

    def _keys_of(self, client: str | None = None) -> list[dict]:
        keys = []
        for page in self.apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=self.usage_plan_id):
            keys += page["items"]
        found = []
        for key in keys:
            try:
                detail = self.apigateway.get_api_key(apiKey=key["id"], includeValue=False)
            except self.apigateway.exceptions.NotFoundException:
                continue
            owner = (detail.get("tags") or {}).get(CLIENT_TAG)
            if owner and (client is None or owner == client):
                found.append(detail)
        return found

    def _new_key(self, client: str) -> tuple[str, str]:
        created = self.apigateway.create_api_key(
            name=self._name(client), enabled=True, tags={CLIENT_TAG: client, "stack": self.stack.name}
        )
        self.apigateway.create_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=created["id"], keyType="API_KEY")
        return created["id"], created["value"]

    def _delete_key(self, key_id: str) -> None:
        # AWS drops a deleted key from its usage plans; the emulator keeps the association, so remove it first.
        self.apigateway.delete_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=key_id)
        self.apigateway.delete_api_key(apiKey=key_id)

    # --- app clients -------------------------------------------------------------------------------------------

    def _app_clients(self) -> dict[str, dict]:
        """This stack's app clients by client name."""
        if not (self.cognito and self.identity and self.identity.created):
            return {}
        found, token = {}, None
        prefix = f"{self.stack.name}-"
        while True:
            page = self.cognito.list_user_pool_clients(
                UserPoolId=self.identity.user_pool_id, MaxResults=60, **({"NextToken": token} if token else {})
            )
            for item in page["UserPoolClients"]:
                if item["ClientName"].startswith(prefix):
                    found[item["ClientName"].removeprefix(prefix)] = item
            token = page.get("NextToken")
            if not token:
                return found

    def _new_app_client(self, client: str, scopes: tuple[str, ...]) -> dict:
        identity = self.identity
        assert identity is not None and self.cognito is not None
        unknown = sorted(set(scopes) - set(identity.scopes))
        if unknown:
            raise StackError(f"SCOPES={','.join(scopes)!r} is invalid: allowed some of {', '.join(identity.scopes)}")
        return self.cognito.create_user_pool_client(
            UserPoolId=identity.user_pool_id,
            ClientName=self._name(client),
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=list(scopes),
            # A machine client needs no user flows; refresh tokens are not issued for client credentials.
            ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
            AccessTokenValidity=identity.access_token_validity_minutes,
            TokenValidityUnits={"AccessToken": "minutes"},
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
        )["UserPoolClient"]

    # --- the commands ------------------------------------------------------------------------------------------

    def list(self) -> list[Client]:
        by_client: dict[str, list[str]] = {}
        for key in self._keys_of():
            by_client.setdefault(key["tags"][CLIENT_TAG], []).append(key["id"])
        apps = self._app_clients()
        names = sorted(set(by_client) | set(apps))
        return [
            Client(
                name,
                tuple(by_client.get(name, ())),
                apps[name]["ClientId"] if name in apps else None,
                tuple(self._scopes_of(apps[name])) if name in apps else (),
            )
            for name in names
        ]

    def _scopes_of(self, app: dict) -> list[str]:
        assert self.cognito and self.identity
        described = self.cognito.describe_user_pool_client(
            UserPoolId=self.identity.user_pool_id, ClientId=app["ClientId"]
        )
        return sorted(described["UserPoolClient"].get("AllowedOAuthScopes") or [])

    def issue(self, client: str, scopes: tuple[str, ...] | None = None) -> Credentials:
        _check_name(client)
        if self._keys_of(client) or client in self._app_clients():
            raise StackError(
                f"client {client!r} exists: rotate its credentials (make client-rotate) or revoke it first"
            )
        app = None
        if self.identity and self.identity.created:
            app = self._new_app_client(client, tuple(scopes or self.identity.scopes))
        key_id, key = self._new_key(client)
        return Credentials(
            client,
            key_id,
            key,
            app["ClientId"] if app else None,
            app.get("ClientSecret") if app else None,
            (self.identity.token_url or None) if self.identity else None,
            tuple(app.get("AllowedOAuthScopes") or ()) if app else (),
        )

    def rotate(self, client: str, *, retire: bool = False) -> dict[str, Any]:
        """Without ``retire``: a new API key and a new client secret beside the current ones (both work; move the
        client to the new ones). With ``retire``: delete every key and secret but the newest."""
        keys = sorted(self._keys_of(client), key=lambda k: k["createdDate"])
        app = self._app_clients().get(client)
        if not keys and not app:
            raise StackError(f"no client {client!r}: issue it first (make client NAME={client})")
        if retire:
            old = [k["id"] for k in keys[:-1]]
            for key_id in old:
                self._delete_key(key_id)
            return {"retired_api_key_ids": old, "retired_client_secret_ids": self._retire_secrets(app)}
        key_id, key = self._new_key(client)
        rotated: dict[str, Any] = {"client": client, "api_key_id": key_id, "api_key": key}
        if app:
            rotated.update(self._add_secret(app))
        return rotated

    def _add_secret(self, app: dict) -> dict[str, Any]:
        """Cognito keeps up to two secrets per app client (AddUserPoolClientSecret), so a client moves to the new
        one before the old is deleted."""
        assert self.cognito and self.identity
        # The emulator does not implement AddUserPoolClientSecret (its tokens are signed locally).
        if self.stack.emulated:
            return {"client_id": app["ClientId"], "client_secret": None, "note": "the emulator keeps one secret"}
        added = self.cognito.add_user_pool_client_secret(
            UserPoolId=self.identity.user_pool_id, ClientId=app["ClientId"]
        )
        descriptor = added["ClientSecretDescriptor"]
        return {
            "client_id": app["ClientId"],
            "client_secret": descriptor["ClientSecretValue"],
            "client_secret_id": descriptor["ClientSecretId"],
        }

    def _retire_secrets(self, app: dict | None) -> list[str]:
        if not app:
            return []
        assert self.cognito and self.identity
        if self.stack.emulated:
            return []
        secrets = self.cognito.list_user_pool_client_secrets(
            UserPoolId=self.identity.user_pool_id, ClientId=app["ClientId"]
        )
        ordered = sorted(secrets.get("ClientSecrets", []), key=lambda s: str(s.get("ClientSecretCreateDate")))
        retired = [s["ClientSecretId"] for s in ordered[:-1]]
        for secret_id in retired:
            self.cognito.delete_user_pool_client_secret(
                UserPoolId=self.identity.user_pool_id, ClientId=app["ClientId"], ClientSecretId=secret_id
            )
        return retired

    def revoke(self, client: str) -> dict[str, Any]:
        keys = [k["id"] for k in self._keys_of(client)]
        app = self._app_clients().get(client)
        if not keys and not app:
            raise StackError(f"no client {client!r}")
        for key_id in keys:
            self._delete_key(key_id)
        if app:
            assert self.cognito and self.identity
            self.cognito.delete_user_pool_client(UserPoolId=self.identity.user_pool_id, ClientId=app["ClientId"])
        return {"revoked_api_key_ids": keys, "revoked_client_id": app["ClientId"] if app else None}


def _check_name(client: str) -> None:
    if not re.fullmatch(NAME, client):
        raise StackError(
            f"NAME={client!r} is invalid: allowed 2-31 characters of a-z, 0-9 and '-', starting with a letter"
        )


def issuer(kind: str, outputs: dict[str, object] | None = None) -> Issuer:
    """The issuer of environment ``kind``'s deployed stack (its usage plan and user pool from the stack's outputs,
    read unless the caller has them)."""
    stack = manifest.find(kind)
    outputs = stackctl.outputs(kind) if outputs is None else outputs
    plan = outputs.get("usage_plan_id")
    if not plan:
        raise StackError(f"{stack.name} has no usage_plan_id output: deploy it first (make deploy ENV={kind})")
    return Issuer(stack, clients_for(stack), str(plan), IdentitySettings.of(outputs.get("identity_settings")))


LOCAL_CLIENT = "local-dev"
LOCAL_CREDENTIALS = manifest.PROJECT_DIR / ".cache" / "local-client.json"


def local_client() -> Credentials:
    """The emulator's development client, issued once by `make up` (tools/clients.py) and remembered in .cache:
    the emulator's credentials only, never a real account's."""
    tool = issuer("local")
    issued = {client.client: client for client in tool.list()}
    if LOCAL_CREDENTIALS.exists():
        stored = json.loads(LOCAL_CREDENTIALS.read_text())
        remembered = Credentials(**{**stored, "scopes": tuple(stored.get("scopes", ()))})
        current = issued.get(LOCAL_CLIENT)
        if current and remembered.api_key_id in current.api_key_ids and remembered.client_id == current.client_id:
            return remembered
    if LOCAL_CLIENT in issued:
        tool.revoke(LOCAL_CLIENT)
    credentials = tool.issue(LOCAL_CLIENT)
    LOCAL_CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    LOCAL_CREDENTIALS.write_text(json.dumps(asdict(credentials)))
    return credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("issue", "list", "rotate", "revoke"))
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--name", help="the client's name (2-31 of a-z, 0-9, '-')")
    parser.add_argument("--scopes", default="", help="issue: the scopes it may ask for (default all)")
    parser.add_argument("--retire", action="store_true", help="rotate: delete every key and secret but the newest")
    args = parser.parse_args(argv)
    try:
        if args.action != "list" and not args.name:
            raise StackError(f"{args.action} needs NAME=<client>")
        tool = issuer(args.kind)
        if args.action == "list":
            result: Any = [asdict(c) for c in tool.list()]
        elif args.action == "issue":
            scopes = tuple(s.strip() for s in args.scopes.split(",") if s.strip()) or None
            result = asdict(tool.issue(args.name, scopes))
        elif args.action == "rotate":
            result = tool.rotate(args.name, retire=args.retire)
        else:
            result = tool.revoke(args.name)
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
