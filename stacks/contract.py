"""The API's OpenAPI document, generated from every route group's handler routes and models (one contract), with
the limits each environment enforces; ``python -m stacks.contract`` (``make openapi``) writes it to
``docs/openapi.json``.

Each route group is a package under ``functions/`` whose ``app.py`` holds a Powertools resolver named ``app``; the
document merges them, and ``route_owners`` says which group serves each path. The service stack hands both to the
API construct, which builds API Gateway's resources, methods and request models from them: a route added to a
handler is added to API Gateway with no edit in ``modules/``.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import Server

from functions.api import security
from functions.api.models import MAX_BODY_BYTES
from modules.openapi import ContractError
from stacks import environments
from stacks.environments import APP_NAME, ROUTE_GROUPS, EnvironmentConfig

# The packages of the route groups every environment has, the first first (stacks/environments.py).
PACKAGES = tuple(ROUTE_GROUPS)

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
POWERTOOLS_SCHEMAS = {"HTTPValidationError", "ValidationError", "ResponseValidationError"}


def _limits(configs: dict[str, EnvironmentConfig]) -> str:
    rows = [
        "| environment | stage rate / burst | per key: rate / burst / quota per day | per client IP (WAF) |",
        "| --- | --- | --- | --- |",
    ]
    for name, c in configs.items():
        api = c.api
        waf = f"{c.waf.rate_limit_per_5_minutes:,} per 5 minutes" if c.waf else "no WAF"
        rows.append(
            f"| {name} | {api.throttle_rate_limit:g}/s / {api.throttle_burst_limit:,} | "
            f"{api.usage_plan_rate_limit:g}/s / {api.usage_plan_burst_limit:,} / "
            f"{api.usage_plan_quota_per_day:,} | {waf} |"
        )
    return "\n".join(rows)


def document(
    configs: dict[str, EnvironmentConfig] | None = None, *, packages: Sequence[str] = PACKAGES
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API, as the route groups' handlers (``packages``) declare it; ``configs``
    add each environment's limits to the description (the published document has them; the stacks only read paths
    and schemas)."""
    description = (
        "Events API of the serverless baseline. Each operation says who may call it: an access token with a scope "
        "(the `Authorization` header) together with the API key of the caller's usage plan (`x-api-key`), an AWS "
        "SigV4 signature, or the API key alone. API keys meter; they identify nobody. Request bodies may be up to "
        f"{MAX_BODY_BYTES:,} bytes. Over a limit the API answers 429 before the function runs."
        + (f"\n\n{_limits(configs)}" if configs else "")
    )
    servers = [
        Server(url=f"https://{c.domain.domain_name}", description=f"{name} (custom domain)")
        for name, c in (configs or {}).items()
        if c.domain
    ] or None
    server_list = json.dumps([s.model_dump(exclude_none=True) for s in servers]) if servers else None
    first, *others = packages
    merged = copy.deepcopy(_package_document(first, description, server_list))
    for package in others:
        _merge(merged, _package_document(package, description, server_list), package)
    return _without_default_422(merged)


def route_owners(groups: Mapping[str, str]) -> dict[str, str]:
    """``{path: group}`` for every path of the contract, from ``groups`` (route group name to its package)."""
    owners: dict[str, str] = {}
    for group, package in groups.items():
        for path in _package_document(package, "", None).get("paths", {}):
            if owners.setdefault(path, group) != group:
                raise ContractError(
                    f"path {path!r} is declared by route groups {owners[path]!r} and {group!r}: a path belongs to "
                    "one group (API Gateway sends it to one function)"
                )
    return owners


def resolver(package: str) -> Any:
    """The Powertools resolver ``app`` of ``functions/<package>/app.py``."""
    try:
        module = importlib.import_module(f"functions.{package}.app")
    except ModuleNotFoundError as error:
        raise ContractError(f"route group package {package!r}: no functions/{package}/app.py ({error})") from error
    if not hasattr(module, "app"):
        raise ContractError(f"functions/{package}/app.py: declares no resolver named 'app'")
    return module.app


@cache
def _package_document(package: str, description: str, servers: str | None) -> dict[str, Any]:
    schema = resolver(package).get_openapi_schema(
        title=f"{APP_NAME} API",
        version="1.0.0",
        description=description,
        security_schemes=security.schemes(),
        servers=[Server(**s) for s in json.loads(servers)] if servers else None,
    )
    return json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))


def _merge(merged: dict[str, Any], other: dict[str, Any], package: str) -> None:
    """Merge ``other`` (package ``package``'s document) into ``merged``: paths and schemas may not collide."""
    other = copy.deepcopy(other)  # the package's document is cached: nothing of it may be changed in place
    for path, item in other.get("paths", {}).items():
        clash = sorted(set(item) & set(merged.get("paths", {}).get(path, {})))
        if clash:
            raise ContractError(f"functions/{package}: {path} {clash} is declared by another route group too")
        merged.setdefault("paths", {}).setdefault(path, {}).update(item)
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in other.get("components", {}).get("schemas", {}).items():
        if schemas.setdefault(name, schema) != schema:
            raise ContractError(
                f"functions/{package}: schema {name!r} differs from another route group's schema of that name"
            )
    tags = {t["name"]: t for t in [*merged.get("tags", []), *other.get("tags", [])]}
    if tags:
        merged["tags"] = list(tags.values())


def _without_default_422(contract: dict[str, Any]) -> dict[str, Any]:
    """Powertools declares its own 422 body (``HTTPValidationError``) on every operation; the handler answers
    validation errors with ``ValidationFailed`` instead, declared on the operations that take input."""
    default = "#/components/schemas/HTTPValidationError"
    for item in contract.get("paths", {}).values():
        for operation in item.values():
            response = operation.get("responses", {}).get("422", {})
            if response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref") == default:
                del operation["responses"]["422"]
    schemas = contract.get("components", {}).get("schemas", {})
    unused = True
    while unused:  # drop Powertools' error schemas that nothing references any more
        others = {name: json.dumps(value) for name, value in schemas.items()}
        text = json.dumps(contract.get("paths", {}))
        unused = [
            name
            for name in POWERTOOLS_SCHEMAS & set(schemas)
            if f'"#/components/schemas/{name}"' not in text + "".join(v for n, v in others.items() if n != name)
        ]
        for name in unused:
            del schemas[name]
    return contract


def render(contract: dict[str, Any]) -> str:
    return json.dumps(contract, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) ``docs/openapi.json``."""
    argv = sys.argv[1:] if argv is None else argv
    text = render(document(environments.load({})))
    if "--check" in argv:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"{DOCUMENT}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
