"""The API's OpenAPI document, generated from the handler's routes and models (one contract), with the limits each
environment enforces; ``python -m stacks.contract`` (``make openapi``) writes it to ``docs/openapi.json``.

The service stack hands the same document to the API construct, which builds API Gateway's resources, methods and
request models from it: a route added to the handler is added to API Gateway with no edit in ``modules/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import Server

from functions.api import security
from functions.api.app import app
from functions.api.models import MAX_BODY_BYTES
from stacks import environments
from stacks.environments import APP_NAME, EnvironmentConfig

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


def document(configs: dict[str, EnvironmentConfig] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API, as the handler declares it; ``configs`` add each environment's limits
    to the description (the published document has them; the stacks only read paths and schemas)."""
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
    schema = app.get_openapi_schema(
        title=f"{APP_NAME} API",
        version="1.0.0",
        description=description,
        security_schemes=security.schemes(),
        servers=servers,
    )
    return _without_default_422(json.loads(schema.model_dump_json(by_alias=True, exclude_none=True)))


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
