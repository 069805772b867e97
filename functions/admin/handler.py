"""The admin route group's Lambda entry point (API Gateway REST proxy integration)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from .app import app, logger


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every line names the signing principal (never a credential): who asked the admin API.
    identity = (event.get("requestContext") or {}).get("identity") or {}
    logger.append_keys(caller={"type": "iam", "arn": identity.get("userArn"), "account": identity.get("accountId")})
    return app.resolve(event, context)
