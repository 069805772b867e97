"""Reading the API's OpenAPI contract as API Gateway needs it: operations, their request models (JSON Schema
draft-04) and parameters, and who may call each (its security requirement, mapped to API Gateway's authorization).

Pure functions over the document; ``Api`` turns them into resources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
# Keywords of newer JSON Schema drafts that API Gateway's draft-04 models do not accept.
UNSUPPORTED_BY_DRAFT4 = ("examples", "const", "$defs", "discriminator", "readOnly", "writeOnly", "deprecated")
AUTHTYPE = "x-amazon-apigateway-authtype"


class ContractError(ValueError):
    """The contract asks for something API Gateway cannot build; the message names the operation and why."""


@dataclass(frozen=True)
class Access:
    """Who may call one method, as API Gateway puts it."""

    authorization: str
    """``NONE``, ``COGNITO_USER_POOLS`` or ``AWS_IAM``."""
    scopes: tuple[str, ...] = ()
    """OAuth scopes, any one of which the access token must carry (``COGNITO_USER_POOLS`` only)."""
    api_key_required: bool = False

    @property
    def public(self) -> bool:
        """No caller identity (the API key alone meters, it identifies nobody)."""
        return self.authorization == "NONE"


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: Mapping[str, Any]
    access: Access


def schemes(contract: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return dict(contract.get("components", {}).get("securitySchemes", {}))


def access_of(
    requirements: list[Mapping[str, list[str]]], known: Mapping[str, Mapping[str, Any]], where: str
) -> Access:
    """API Gateway's authorization for one OpenAPI security requirement list.

    A method has one authorizer, so exactly one requirement object is allowed; in it, at most one identity scheme
    (OAuth2/Cognito or SigV4) and optionally the API key."""
    if len(requirements) != 1:
        raise ContractError(
            f"{where}: security={requirements!r} is invalid: allowed exactly one requirement object (an API "
            "Gateway method has one authorizer), e.g. [{'cognito': ['events/write'], 'apiKey': []}]"
        )
    (requirement,) = requirements
    authorization, scopes, api_key = "NONE", (), False
    for name, required_scopes in requirement.items():
        scheme = known.get(name)
        if scheme is None:
            raise ContractError(f"{where}: security scheme {name!r} is not declared (declared: {sorted(known)})")
        kind = scheme.get(AUTHTYPE) or ("apiKey" if scheme.get("type") == "apiKey" else scheme.get("type"))
        if kind == "apiKey" and scheme.get("name", "").lower() == "x-api-key":
            api_key = True
            continue
        mapped = {"cognito_user_pools": "COGNITO_USER_POOLS", "awsSigv4": "AWS_IAM"}.get(kind)
        if mapped is None:
            raise ContractError(f"{where}: scheme {name!r} ({kind}) has no API Gateway authorizer here")
        if authorization != "NONE":
            raise ContractError(f"{where}: security {requirement!r} names two identity schemes; allowed one")
        authorization = mapped
        if mapped == "COGNITO_USER_POOLS" and not required_scopes:
            raise ContractError(
                f"{where}: scheme {name!r} without scopes; allowed a list of the scopes that admit a caller"
            )
        scopes = tuple(required_scopes)
    return Access(authorization, scopes, api_key)


def operations(contract: Mapping[str, Any]) -> Iterator[Operation]:
    """Every documented operation with the access its security declares (its own, else the document's)."""
    known = schemes(contract)
    default = contract.get("security")
    for path, item in sorted(contract.get("paths", {}).items()):
        for method in METHODS:
            if method not in item:
                continue
            spec = item[method]
            requirements = spec.get("security", default)
            where = f"{method.upper()} {path}"
            if requirements is None:
                raise ContractError(f"{where}: no security requirement; every operation must say who may call it")
            yield Operation(path, method.upper(), spec, access_of(requirements, known, where))


def oauth_scopes(contract: Mapping[str, Any]) -> dict[str, str]:
    """Every OAuth scope the document declares, with its description."""
    found: dict[str, str] = {}
    for scheme in schemes(contract).values():
        for flow in (scheme.get("flows") or {}).values():
            found.update(flow.get("scopes") or {})
    return found


def slug(path: str) -> str:
    """``/events/{id}`` -> ``events_id``: a construct id for the resource of a path."""
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "root"


def parameters(operation: Mapping[str, Any]) -> dict[str, bool]:
    """API Gateway's request parameters (``method.request.querystring.x``: required) of an operation."""
    where = {"query": "querystring", "path": "path", "header": "header"}
    return {
        f"method.request.{where[p['in']]}.{p['name']}": bool(p.get("required", False))
        for p in operation.get("parameters", [])
        if p.get("in") in where
    }


def execute_api_path(path: str) -> str:
    """The resource part of an execute-api ARN for ``path`` (path parameters match any segment)."""
    return re.sub(r"\{[^}]+\}", "*", path).lstrip("/")


def draft4(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON Schema draft-04 copy of ``schema`` (what API Gateway's request models speak): references inlined,
    ``anyOf`` with null turned into a type list, newer keywords dropped."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return convert(components[node["$ref"].rsplit("/", 1)[1]])
        variants = node.get("anyOf")
        if variants and {"type": "null"} in variants and len(variants) == 2:
            (other,) = [v for v in variants if v != {"type": "null"}]
            merged = {**{k: v for k, v in node.items() if k != "anyOf"}, **convert(other)}
            merged["type"] = [merged.get("type", "object"), "null"]
            return convert(merged)
        out = {k: convert(v) for k, v in node.items() if k not in UNSUPPORTED_BY_DRAFT4}
        if "const" in node:
            out["enum"] = [node["const"]]
        return out

    return {"$schema": "http://json-schema.org/draft-04/schema#", **convert(schema)}
