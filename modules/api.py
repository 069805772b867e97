"""The REST API: regional API Gateway in front of the function's ``live`` alias, keyed, throttled and logged."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.api_gateway_stage import ApiGatewayStage, ApiGatewayStageAccessLogSettings
from cdktf_cdktf_provider_aws.api_gateway_usage_plan import (
    ApiGatewayUsagePlan,
    ApiGatewayUsagePlanApiStages,
    ApiGatewayUsagePlanQuotaSettings,
    ApiGatewayUsagePlanThrottleSettings,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from modules.function import Function
from modules.log_shipping import LogShipping
from modules.validation import Checks

# API Gateway's default account-level limits in us-east-1 (raise them with a quota request, then here).
ACCOUNT_RATE_LIMIT = 10_000
ACCOUNT_BURST_LIMIT = 5_000
# A usage-plan quota must last at least this long at the plan's full rate, or the plan is a trap.
QUOTA_MIN_FULL_RATE_SECONDS = 3600

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "apiKeyId": "$context.identity.apiKeyId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationStatus": "$context.integration.status",
        "xrayTraceId": "$context.xrayTraceId",
        "errorMessage": "$context.error.message",
        "wafResponseCode": "$context.wafResponseCode",
    },
    separators=(",", ":"),
)

METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
# Keywords of newer JSON Schema drafts that API Gateway's draft-04 models do not accept.
UNSUPPORTED_BY_DRAFT4 = ("examples", "const", "$defs", "discriminator", "readOnly", "writeOnly", "deprecated")


@dataclass(frozen=True)
class ApiConfig:
    """The REST API's limits and switches; API keys, request validation and access logging are not optional."""

    name: str
    """Name of the REST API (1-64 of A-Z, a-z, 0-9, '-', '_')."""
    stage_name: str = "v1"
    """The stage, first segment of every URL path (default ``v1``)."""
    throttle_rate_limit: float = 100
    """Steady requests per second the stage admits from all callers together (1..10,000, the account's default
    limit; default 100)."""
    throttle_burst_limit: int = 200
    """Burst the stage admits (1..5,000; default 200)."""
    usage_plan_rate_limit: float = 50
    """Requests per second per API key (1..throttle_rate_limit; default 50)."""
    usage_plan_burst_limit: int = 100
    """Burst per API key (1..throttle_burst_limit; default 100)."""
    usage_plan_quota_per_day: int = 5_000_000
    """Requests per API key per day (default 5,000,000); must last at least an hour at the plan's full rate."""

    def __post_init__(self) -> None:
        checks = Checks("api")
        checks.pattern("name", self.name, r"[A-Za-z0-9_-]{1,64}", "1-64 characters of A-Z, a-z, 0-9, '-', '_'")
        checks.pattern("stage_name", self.stage_name, r"[A-Za-z0-9_]{1,64}", "1-64 of A-Z, a-z, 0-9, '_'")
        rate = checks.range("throttle_rate_limit", self.throttle_rate_limit, 1, ACCOUNT_RATE_LIMIT, "requests/s")
        burst = checks.int_range("throttle_burst_limit", self.throttle_burst_limit, 1, ACCOUNT_BURST_LIMIT, "requests")
        plan_rate = rate and checks.range(
            "usage_plan_rate_limit",
            self.usage_plan_rate_limit,
            1,
            self.throttle_rate_limit,
            "requests/s (at most the stage's throttle_rate_limit)",
        )
        if burst:
            checks.int_range(
                "usage_plan_burst_limit",
                self.usage_plan_burst_limit,
                1,
                self.throttle_burst_limit,
                "requests (at most the stage's throttle_burst_limit)",
            )
        if checks.type("usage_plan_quota_per_day", self.usage_plan_quota_per_day, int) and plan_rate:
            floor = int(self.usage_plan_rate_limit * QUOTA_MIN_FULL_RATE_SECONDS)
            seconds = self.usage_plan_quota_per_day / self.usage_plan_rate_limit
            checks.that(
                self.usage_plan_quota_per_day >= floor,
                "usage_plan_quota_per_day",
                self.usage_plan_quota_per_day,
                f">= {floor}: at the plan's {self.usage_plan_rate_limit:g} requests/s this quota runs dry in "
                f"{seconds:,.0f} s; it must last at least {QUOTA_MIN_FULL_RATE_SECONDS} s at full rate",
            )
        checks.done()


class Api(Construct):
    """A regional REST API in front of a function's ``live`` alias: every method keyed, the stage throttled,
    JSON access logs and execution logs shipped to the archive, request bodies validated."""

    rest_api: ApiGatewayRestApi
    """The REST API (REGIONAL endpoint)."""
    deployment: ApiGatewayDeployment
    """The current deployment; replaced whenever the API's definition changes."""
    stage: ApiGatewayStage
    """The stage: tracing, access logs, the deployment it serves."""
    usage_plan: ApiGatewayUsagePlan
    """Per-key throttle and daily quota. Its keys are issued by ``make client`` (tools/clients.py), not here: a
    key Terraform creates is kept, in plain text, in its state and in every saved plan."""
    access_log_group: CloudwatchLogGroup
    """JSON access lines, one per request."""
    execution_log_group: CloudwatchLogGroup
    """API Gateway's execution errors, created before API Gateway would create it unencrypted."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ApiConfig,
        function: Function,
        contract: Mapping[str, Any],
        shipping: LogShipping,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        self.rest_api = ApiGatewayRestApi(
            self,
            "rest_api",
            name=config.name,
            api_key_source="HEADER",
            description="Serverless API baseline",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        api_id = self.rest_api.id
        parts = self._routes(contract, function.alias.invoke_arn)
        responses = self._gateway_responses(api_id)
        parts += [r.id for r in responses]
        static = {
            "paths": contract.get("paths", {}),
            "components": contract.get("components", {}),
            "responses": _GATEWAY_RESPONSES,
        }
        definition_hash = hashlib.sha256(json.dumps(static, sort_keys=True).encode()).hexdigest()
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=api_id,
            # Any change to the API's definition yields a new deployment; the stage then moves to it.
            triggers={"redeployment": Fn.sha1(Fn.jsonencode([definition_hash, *parts]))},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        LambdaPermission(
            self,
            "invoke_permission",
            statement_id="AllowThisApiOnly",
            action="lambda:InvokeFunction",
            function_name=function.lambda_function.function_name,
            qualifier=function.alias.name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{self.rest_api.execution_arn}/*",
        )
        self.access_log_group = shipping.log_group(
            self, "access_logs", name=f"/aws/apigateway/{config.name}/access", source=f"apigateway/{config.name}/access"
        )
        # API Gateway would create this group itself, unencrypted and unshipped; creating it first prevents that.
        self.execution_log_group = shipping.log_group(
            self,
            "execution_logs",
            name=f"API-Gateway-Execution-Logs_{api_id}/{config.stage_name}",
            source=f"apigateway/{config.name}/execution",
        )
        self.stage = ApiGatewayStage(
            self,
            "stage",
            rest_api_id=api_id,
            stage_name=config.stage_name,
            deployment_id=self.deployment.id,
            xray_tracing_enabled=True,
            access_log_settings=ApiGatewayStageAccessLogSettings(
                destination_arn=self.access_log_group.arn, format=ACCESS_LOG_FORMAT
            ),
            # API Gateway writes execution and access logs through the account's CloudWatch role, which the
            # bootstrap stack of this account sets (one setting per account and region, so one owner).
            depends_on=[self.execution_log_group],
        )
        ApiGatewayMethodSettings(
            self,
            "method_settings",
            rest_api_id=api_id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=ApiGatewayMethodSettingsSettings(
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
            ),
        )
        self.usage_plan = ApiGatewayUsagePlan(
            self,
            "usage_plan",
            name=f"{config.name}-default",
            api_stages=[ApiGatewayUsagePlanApiStages(api_id=api_id, stage=self.stage.stage_name)],
            throttle_settings=ApiGatewayUsagePlanThrottleSettings(
                rate_limit=config.usage_plan_rate_limit, burst_limit=config.usage_plan_burst_limit
            ),
            quota_settings=ApiGatewayUsagePlanQuotaSettings(limit=config.usage_plan_quota_per_day, period="DAY"),
        )

    @property
    def url(self) -> str:
        """The stage's invoke URL (a token)."""
        return self.stage.invoke_url

    @property
    def name(self) -> str:
        """The REST API's name (a plain string: the ``ApiName`` metric dimension)."""
        return self._config.name

    @property
    def stage_name(self) -> str:
        return self._config.stage_name

    def _routes(self, contract: Mapping[str, Any], invoke_uri: str) -> list:
        """Resources, methods, request models and validators from the OpenAPI ``contract``.

        Every operation of the document becomes a keyed method proxying to the alias, validating its JSON body
        against a draft-04 model of the document's schema. Each declared path also gets ``ANY`` (so the function
        answers 405 with the methods it has), and ``/{proxy+}`` sends every other path to the function's 404.
        """
        api_id = self.rest_api.id
        components = contract.get("components", {}).get("schemas", {})
        # Operations that declare a body validate it against its model; the others validate their parameters.
        body_validator = ApiGatewayRequestValidator(
            self,
            "body_validator",
            rest_api_id=api_id,
            name="body",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        params_validator = ApiGatewayRequestValidator(
            self,
            "params_validator",
            rest_api_id=api_id,
            name="params",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        models: dict[str, ApiGatewayModel] = {}
        resources = {"/": self.rest_api.root_resource_id}
        parts: list = []
        targets: list[tuple[str, str, str, dict]] = []
        for path, item in sorted(contract.get("paths", {}).items()):
            resource_id = self._resource(path, resources, parts)
            for method in METHODS:
                if method in item:
                    targets.append((f"{_slug(path)}_{method}", resource_id, method.upper(), item[method]))
            if path != "/":
                targets.append((f"{_slug(path)}_any", resource_id, "ANY", {}))
        proxy = ApiGatewayResource(
            self, "proxy_resource", rest_api_id=api_id, parent_id=self.rest_api.root_resource_id, path_part="{proxy+}"
        )
        parts.append(proxy.id)
        if "/" not in contract.get("paths", {}):
            targets.append(("root_any", self.rest_api.root_resource_id, "ANY", {}))
        targets.append(("proxy_any", proxy.id, "ANY", {}))
        for name, resource_id, http_method, operation in targets:
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            model = self._model(body, components, models) if body else None
            method = ApiGatewayMethod(
                self,
                f"{name}_method",
                rest_api_id=api_id,
                resource_id=resource_id,
                http_method=http_method,
                authorization="NONE",
                api_key_required=True,
                request_validator_id=(body_validator if model else params_validator).id,
                request_models={"application/json": model.name} if model else None,
                request_parameters=_parameters(operation) or None,
            )
            integration = ApiGatewayIntegration(
                self,
                f"{name}_integration",
                rest_api_id=api_id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=invoke_uri,
            )
            parts += [method.id, integration.id, integration.uri]
        return parts

    def _resource(self, path: str, resources: dict[str, str], parts: list) -> str:
        """The resource of ``path``, creating it and its parents as needed."""
        if path in resources:
            return resources[path]
        parent_path = path.rsplit("/", 1)[0] or "/"
        parent = self._resource(parent_path, resources, parts)
        resource = ApiGatewayResource(
            self,
            f"{_slug(path)}_resource",
            rest_api_id=self.rest_api.id,
            parent_id=parent,
            path_part=path.rsplit("/", 1)[1],
        )
        parts.append(resource.id)
        resources[path] = resource.id
        return resource.id

    def _model(
        self, schema: Mapping[str, Any], components: Mapping[str, Any], models: dict[str, ApiGatewayModel]
    ) -> ApiGatewayModel:
        name = re.sub(r"[^A-Za-z0-9]", "", schema["$ref"].rsplit("/", 1)[1]) if "$ref" in schema else "Body"
        if name not in models:
            models[name] = ApiGatewayModel(
                self,
                f"{name.lower()}_model",
                rest_api_id=self.rest_api.id,
                name=name,
                content_type="application/json",
                schema=json.dumps(draft4(schema, components), sort_keys=True),
            )
        return models[name]

    def _gateway_responses(self, api_id: str) -> list[ApiGatewayGatewayResponse]:
        return [
            ApiGatewayGatewayResponse(
                self,
                f"response_{kind.lower()}",
                rest_api_id=api_id,
                response_type=kind,
                status_code=status,
                response_templates={"application/json": template},
            )
            for kind, status, template in _GATEWAY_RESPONSES
        ]


# Errors raised by API Gateway itself (no key, throttled, body rejected) answer in the same JSON shape as the
# function's. A body that fails the model is a 422, like the function's own schema errors. These templates are
# not VTL: API Gateway only substitutes variables, so nothing here may call $util, and only the pre-quoted
# messageString can go in unquoted (validationErrorString holds raw quotes and would break the JSON).
_GATEWAY_RESPONSES = (
    (
        "BAD_REQUEST_BODY",
        "422",
        '{"error":"validation_failed","message":$context.error.messageString,'
        '"fields":[{"field":"(body)","message":"does not match the request model of this operation"}]}',
    ),
    ("DEFAULT_4XX", None, '{"error":"request_rejected","message":$context.error.messageString}'),
    ("DEFAULT_5XX", None, '{"error":"gateway_error","message":$context.error.messageString}'),
)


def _slug(path: str) -> str:
    """``/events/{id}`` -> ``events_id``: a construct id for the resource of a path."""
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "root"


def _parameters(operation: Mapping[str, Any]) -> dict[str, bool]:
    """API Gateway's request parameters (``method.request.querystring.x``: required) of an operation."""
    where = {"query": "querystring", "path": "path", "header": "header"}
    return {
        f"method.request.{where[p['in']]}.{p['name']}": bool(p.get("required", False))
        for p in operation.get("parameters", [])
        if p.get("in") in where
    }


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
