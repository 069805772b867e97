"""Who may call each operation, declared once: the OpenAPI security schemes the routes name, and the OAuth scopes.

API Gateway enforces what the routes declare here (the stack builds each method's authorizer, scopes and API key
requirement from the document); the handler only reads who the caller was. Three ways in:

- ``jwt(...)``: an access token from the environment's Cognito user pool, carrying one of the scopes, in the
  ``Authorization`` header (machine clients get one by the client-credentials grant; see ``make token``);
- ``SIGV4``: AWS Signature V4 by an IAM principal of the account (service-to-service callers);
- the API key (``x-api-key``), which AWS means for usage plans, quotas and metering, never for identity: it rides
  along with a JWT, and alone admits only what carries no data (``/health``).
"""

from __future__ import annotations

from typing import Any

API_KEY = "apiKey"
JWT = "cognito"
SIGV4 = "sigv4"
# The resource server of every scope (a Cognito scope is "<resource server>/<name>").
RESOURCE_SERVER = "events"
SCOPES = {
    f"{RESOURCE_SERVER}/write": "Send events (POST /events)",
    f"{RESOURCE_SERVER}/read": "Read what the API knows of the caller (GET /whoami)",
}
# OpenAPI extensions API Gateway itself reads when it imports a document (the stack builds the methods itself).
AUTHTYPE = "x-amazon-apigateway-authtype"
# Each environment's token endpoint is its user pool's domain: <app>-<env>-<account id> (see modules/identity.py).
TOKEN_URL = "https://serverless-app-ENV-ACCOUNT.auth.us-east-1.amazoncognito.com/oauth2/token"


def schemes() -> dict[str, Any]:
    """The three ways in, as OpenAPI security schemes; ``x-amazon-apigateway-authtype`` says which API Gateway
    authorizer each is."""
    from aws_lambda_powertools.event_handler.openapi.models import (
        APIKey,
        APIKeyIn,
        OAuth2,
        OAuthFlowClientCredentials,
        OAuthFlows,
    )

    return {
        API_KEY: APIKey(name="x-api-key", in_=APIKeyIn.header, description="Usage plan key (metering)"),
        JWT: OAuth2(
            description="Access token of the environment's Cognito user pool (Authorization header)",
            flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL, scopes=dict(SCOPES))),
            **{AUTHTYPE: "cognito_user_pools"},
        ),
        SIGV4: APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="AWS Signature Version 4 of an IAM principal of the account",
            **{AUTHTYPE: "awsSigv4"},
        ),
    }


def jwt(*scopes: str, key: bool = True) -> list[dict[str, list[str]]]:
    """A JWT with one of ``scopes`` (and, with ``key``, the API key of the caller's usage plan)."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes={list(scopes)!r} is invalid: allowed one or more of {sorted(SCOPES)}")
    return [{JWT: list(scopes), **({API_KEY: []} if key else {})}]


def key_only() -> list[dict[str, list[str]]]:
    """The API key alone: for operations that carry no data and need no caller identity."""
    return [{API_KEY: []}]


def sigv4() -> list[dict[str, list[str]]]:
    """An IAM principal's SigV4 signature (the REST API's resource policy says whose)."""
    return [{SIGV4: []}]


def caller(request_context: dict[str, Any]) -> dict[str, Any]:
    """Who API Gateway let in, from its request context: the token's claims (never the token), or the IAM
    principal, or only the API key's id."""
    claims = (request_context.get("authorizer") or {}).get("claims") or {}
    identity = request_context.get("identity") or {}
    if claims:
        scope = claims.get("scope") or ""
        return {
            "type": "jwt",
            "sub": claims.get("sub"),
            "client_id": claims.get("client_id") or claims.get("aud"),
            "scopes": sorted(scope.split()) if isinstance(scope, str) else sorted(scope),
            "token_use": claims.get("token_use"),
        }
    if identity.get("userArn"):
        return {"type": "iam", "arn": identity["userArn"], "account": identity.get("accountId")}
    return {"type": "api_key", "api_key_id": identity.get("apiKeyId")}
