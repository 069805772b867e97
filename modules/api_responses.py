"""What API Gateway answers itself, without the function: its own errors in the function's JSON shape and, with
CORS, each documented path's preflight."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_response import ApiGatewayMethodResponse
from constructs import Construct

from modules.cors import CorsConfig
from modules.openapi import Access, Operation, slug

# Errors raised by API Gateway itself (no or a bad token or key, a missing scope, throttled, body rejected) answer in
# the same JSON shape as the function's. A body that fails the model is a 422, like the function's own schema
# errors. These templates are not VTL: API Gateway only substitutes variables, so nothing here may call $util, and
# only the pre-quoted messageString can go in unquoted (validationErrorString holds raw quotes and would break JSON).
GATEWAY_RESPONSES = (
    (
        "BAD_REQUEST_BODY",
        "422",
        '{"error":"validation_failed","message":$context.error.messageString,'
        '"fields":[{"field":"(body)","message":"does not match the request model of this operation"}]}',
    ),
    ("UNAUTHORIZED", "401", '{"error":"unauthorized","message":$context.error.messageString}'),
    ("DEFAULT_4XX", None, '{"error":"request_rejected","message":$context.error.messageString}'),
    ("DEFAULT_5XX", None, '{"error":"gateway_error","message":$context.error.messageString}'),
)

MethodFactory = Callable[..., ApiGatewayMethod]
"""``Api``'s method maker: ``(name, resource_id, http_method, access, where, **method_arguments)``."""


def gateway_responses(scope: Construct, rest_api_id: str, cors: CorsConfig | None) -> list[ApiGatewayGatewayResponse]:
    """API Gateway's own errors as JSON, with the CORS headers a browser needs to read them."""
    headers = {f"gatewayresponse.header.{h}": v for h, v in cors.gateway_response_headers().items()} if cors else None
    return [
        ApiGatewayGatewayResponse(
            scope,
            f"response_{kind.lower()}",
            rest_api_id=rest_api_id,
            response_type=kind,
            status_code=status,
            response_templates={"application/json": template},
            response_parameters=headers,
        )
        for kind, status, template in GATEWAY_RESPONSES
    ]


def preflights(
    scope: Construct,
    *,
    rest_api_id: str,
    cors: CorsConfig,
    operations: Sequence[Operation],
    resources: Mapping[str, str],
    method: MethodFactory,
    request_validator_id: str,
) -> list:
    """One ``OPTIONS`` per documented path (``resources``: resource id by path), answered by API Gateway with a
    mock integration (no token, no key: a browser's preflight carries neither). Returns what the deployment's
    trigger must follow."""
    parts: list = []
    by_path: dict[str, list[str]] = {}
    for op in operations:
        if op.access.authorization != "AWS_IAM":  # a browser never signs with SigV4
            by_path.setdefault(op.path, []).append(op.method)
    for path, methods in sorted(by_path.items()):
        name = f"{slug(path)}_preflight"
        options = method(
            name,
            resources[path],
            "OPTIONS",
            Access("NONE"),
            f"OPTIONS {path}",
            request_validator_id=request_validator_id,
        )
        headers = cors.preflight_headers(methods)
        integration = ApiGatewayIntegration(
            scope,
            f"{name}_integration",
            rest_api_id=rest_api_id,
            resource_id=options.resource_id,
            http_method=options.http_method,
            type="MOCK",
            request_templates={"application/json": '{"statusCode": 204}'},
        )
        declared = ApiGatewayMethodResponse(
            scope,
            f"{name}_response",
            rest_api_id=rest_api_id,
            resource_id=options.resource_id,
            http_method=options.http_method,
            status_code="204",
            response_parameters={
                f"method.response.header.{header}": False for header in ("Access-Control-Allow-Origin", *headers)
            },
        )
        answer = ApiGatewayIntegrationResponse(
            scope,
            f"{name}_integration_response",
            rest_api_id=rest_api_id,
            resource_id=options.resource_id,
            http_method=options.http_method,
            status_code=declared.status_code,
            response_parameters={f"method.response.header.{h}": f"'{v}'" for h, v in headers.items()},
            response_templates={"application/json": cors.preflight_template()},
            depends_on=[integration],
        )
        parts += [options.id, integration.id, answer.id]
    return parts
