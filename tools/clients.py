"""The API's clients: ``make client NAME=<client>`` issues one an API key in the stage's usage plan (its throttle and
daily quota), ``make clients`` lists them, ``make client-rotate`` and ``make client-revoke`` rotate and revoke.

Credentials are issued here, never by Terraform: a key or secret that Terraform creates is written, in plain
text, into its state and into every saved plan, and every role that plans reads the state (a pull request's
included). The stack defines the usage plan; this tool puts keys in it. Each key is named ``<stack>-<client>``
and tagged with the client's name.

``python -m tools.clients issue|list|rotate|revoke ENV [--name N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class Client:
    """A client as the account holds it (no secret values)."""

    client: str
    api_key_ids: tuple[str, ...]


class Issuer:
    """Issues, lists, rotates and revokes the clients of one stack's usage plan."""

    def __init__(self, stack: Stack, clients: Callable[[str], Any], usage_plan_id: str) -> None:
        self.stack, self.usage_plan_id = stack, usage_plan_id
        self.apigateway = clients("apigateway")

    def _key_name(self, client: str) -> str:
        return f"{self.stack.name}-{client}"

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

    def list(self) -> list[Client]:
        by_client: dict[str, list[str]] = {}
        for key in self._keys_of():
            by_client.setdefault(key["tags"][CLIENT_TAG], []).append(key["id"])
        return [Client(name, tuple(ids)) for name, ids in sorted(by_client.items())]

    def _new_key(self, client: str) -> Credentials:
        created = self.apigateway.create_api_key(
            name=self._key_name(client),
            enabled=True,
            tags={CLIENT_TAG: client, "stack": self.stack.name},
        )
        self.apigateway.create_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=created["id"], keyType="API_KEY")
        return Credentials(client, created["id"], created["value"])

    def issue(self, client: str) -> Credentials:
        _check_name(client)
        if self._keys_of(client):
            raise StackError(f"client {client!r} exists: rotate its key (make client-rotate) or revoke it first")
        return self._new_key(client)

    def rotate(self, client: str, *, retire: bool = False) -> Credentials | list[str]:
        """Without ``retire``: a new key beside the current ones (both work; move the client to the new one).
        With ``retire``: delete every key but the newest, and return the ids deleted."""
        keys = sorted(self._keys_of(client), key=lambda k: k["createdDate"])
        if not keys:
            raise StackError(f"no client {client!r}: issue it first (make client NAME={client})")
        if not retire:
            return self._new_key(client)
        old = [k["id"] for k in keys[:-1]]
        for key_id in old:
            self._delete_key(key_id)
        return old

    def revoke(self, client: str) -> list[str]:
        keys = [k["id"] for k in self._keys_of(client)]
        if not keys:
            raise StackError(f"no client {client!r}")
        for key_id in keys:
            self._delete_key(key_id)
        return keys

    def _delete_key(self, key_id: str) -> None:
        # AWS drops a deleted key from its usage plans; the emulator keeps the association, so remove it first.
        self.apigateway.delete_usage_plan_key(usagePlanId=self.usage_plan_id, keyId=key_id)
        self.apigateway.delete_api_key(apiKey=key_id)


def _check_name(client: str) -> None:
    if not re.fullmatch(NAME, client):
        raise StackError(
            f"NAME={client!r} is invalid: allowed 2-31 characters of a-z, 0-9 and '-', starting with a letter"
        )


def issuer(kind: str) -> Issuer:
    """The issuer of environment ``kind``'s deployed stack (its usage plan from the stack's outputs)."""
    stack = manifest.find(kind)
    plan = stackctl.outputs(kind).get("usage_plan_id")
    if not plan:
        raise StackError(f"{stack.name} has no usage_plan_id output: deploy it first (make deploy ENV={kind})")
    return Issuer(stack, clients_for(stack), str(plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("issue", "list", "rotate", "revoke"))
    parser.add_argument("kind", nargs="?", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--name", help="the client's name (2-31 of a-z, 0-9, '-')")
    parser.add_argument("--retire", action="store_true", help="rotate: delete every key but the newest")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        if args.action != "list" and not args.name:
            raise StackError(f"{args.action} needs NAME=<client>")
        tool = issuer(args.kind)
        if args.action == "list":
            result: Any = [asdict(c) for c in tool.list()]
        elif args.action == "issue":
            result = asdict(tool.issue(args.name))
        elif args.action == "rotate":
            rotated = tool.rotate(args.name, retire=args.retire)
            result = {"retired_api_key_ids": rotated} if isinstance(rotated, list) else asdict(rotated)
        else:
            result = {"revoked_api_key_ids": tool.revoke(args.name)}
    except StackError as error:
        print(error, file=sys.stderr)
        return 1
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
