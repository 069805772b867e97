"""The REST API: regional API Gateway in front of each route group's ``live`` alias, its methods, authorizers, request
models and CORS built from the OpenAPI contract; throttled, metered by usage plan, logged."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
from cdktf_cdktf_provider_aws.api_gateway_gateway_response import ApiGatewayGatewayResponse
from cdktf_cdktf_provider_aws.api_gateway_integration import ApiGatewayIntegration
from cdktf_cdktf_provider_aws.api_gateway_integration_response import ApiGatewayIntegrationResponse
from cdktf_cdktf_provider_aws.api_gateway_method import ApiGatewayMethod
from cdktf_cdktf_provider_aws.api_gateway_method_response import ApiGatewayMethodResponse
from cdktf_cdktf_provider_aws.api_gateway_method_settings import (
    ApiGatewayMethodSettings,
    ApiGatewayMethodSettingsSettings,
)
from cdktf_cdktf_provider_aws.api_gateway_model import ApiGatewayModel
from cdktf_cdktf_provider_aws.api_gateway_request_validator import ApiGatewayRequestValidator
from cdktf_cdktf_provider_aws.api_gateway_resource import ApiGatewayResource
from cdktf_cdktf_provider_aws.api_gateway_rest_api import ApiGatewayRestApi, ApiGatewayRestApiEndpointConfiguration
from cdktf_cdktf_provider_aws.api_gateway_rest_api_policy import ApiGatewayRestApiPolicy
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

from modules.account import AccountContext
from modules.alarms import Metric
from modules.cors import CorsConfig
from modules.function import Function
from modules.iam import document
from modules.identity import Identity
from modules.log_shipping import LogShipping
from modules.openapi import Access, ContractError, Operation, draft4, execute_api_path, operations, parameters, slug
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
        # Milliseconds since the epoch: the one request time that sorts and converts the same in every engine.
        "requestTimeEpoch": "$context.requestTimeEpoch",
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
        # Who API Gateway let in: the token's subject and app client, or the signing IAM principal.
        "callerSub": "$context.authorizer.claims.sub",
        "callerClientId": "$context.authorizer.claims.client_id",
        "callerScopes": "$context.authorizer.claims.scope",
        "callerArn": "$context.identity.userArn",
    },
    separators=(",", ":"),
)


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
    cors: CorsConfig | None = None
    """Browser origins the API answers (default None: no CORS, browsers cannot call it)."""
    iam_principal_org_id: str | None = None
    """Also admit SigV4 callers of other accounts of this AWS Organization (``o-…``) on the operations the contract
    signs (default None: this account's principals only)."""
    iam_source_vpce_ids: tuple[str, ...] = ()
    """Admit SigV4 callers only through these VPC endpoints (``vpce-…``; default none: from anywhere)."""
    enable_resource_policy: bool = True
    """Attach the REST API's resource policy (default on). Only the emulator turns it off: it returns a policy
    unescaped, which the provider cannot read back, and it evaluates none anyway (the request simulation does)."""

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
        checks.type("enable_resource_policy", self.enable_resource_policy, bool)
        if self.cors is not None:
            checks.type("cors", self.cors, CorsConfig)
        if self.iam_principal_org_id is not None:
            checks.pattern(
                "iam_principal_org_id", self.iam_principal_org_id, r"o-[a-z0-9]{10,32}", "an organization id, 'o-…'"
            )
        checks.each(
            "iam_source_vpce_ids",
            self.iam_source_vpce_ids,
            lambda f, v: checks.pattern(f, v, r"vpce-[0-9a-f]{8,17}", "a VPC endpoint id, 'vpce-…'"),
        )
        checks.done()


def api_metric(config: ApiConfig, name: str, stat: str = "Sum") -> Metric:
    """API Gateway's metric ``name`` of the API ``config`` describes, by the dimensions API Gateway publishes for a
    stage (``ApiName``, ``Stage``): plain strings, so alarms can be declared before the API is."""
    return Metric("AWS/ApiGateway", name, {"ApiName": config.name, "Stage": config.stage_name}, stat)


class Api(Construct):
    """A regional REST API in front of each route group's ``live`` alias, built from the OpenAPI contract: each
    operation's caller check (a Cognito access token with one of its scopes, a SigV4 signature, the usage plan's
    key), its request model and parameters; the stage throttled, JSON access logs and execution logs shipped to the
    archive; a resource policy that keeps the signed operations to this account; CORS when configured."""

    rest_api: ApiGatewayRestApi
    """The REST API (REGIONAL endpoint)."""
    authorizer: ApiGatewayAuthorizer | None
    """The ``COGNITO_USER_POOLS`` authorizer of the identity's user pool (None without an identity)."""
    methods: dict[str, ApiGatewayMethod]
    """Every method by ``"<METHOD> <path>"`` (``ANY`` for the fallbacks that let the function answer 404/405)."""
    policy: ApiGatewayRestApiPolicy | None
    """Who may invoke which method (see ``_resource_policy``)."""
    deployment: ApiGatewayDeployment
    """The current deployment; replaced whenever the API's definition changes."""
    stage: ApiGatewayStage
    """The stage: tracing, access logs, the deployment it serves."""
    usage_plan: ApiGatewayUsagePlan
    """Per-key throttle and daily quota. Its keys are issued by ``make client`` (tools/clients.py), not here: a
    key Terraform creates is kept, in plain text, in its state and in every saved plan."""
    access_log_group: CloudwatchLogGroup
    """JSON access lines, one per request, with the caller's subject, app client or IAM principal."""
    execution_log_group: CloudwatchLogGroup
    """API Gateway's execution errors, created before API Gateway would create it unencrypted."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ApiConfig,
        functions: Mapping[str, Function],
        routes: Mapping[str, str],
        contract: Mapping[str, Any],
        shipping: LogShipping,
        account: AccountContext,
        identity: Identity | None = None,
        execute_api_endpoint: bool = True,
    ) -> None:
        """``functions``: each route group's function by group name; the first also answers every path the contract
        does not declare (its 404). ``routes``: the group serving each of the contract's paths.
        ``execute_api_endpoint``: keep the stage's default ``execute-api`` URL (off when a custom domain is the only
        way in, see ``ApiDomain``)."""
        super().__init__(scope, id)
        self._config = config
        self.operations = list(operations(contract))
        unrouted = sorted(set(contract.get("paths", {})) - set(routes))
        if not functions or unrouted or not set(routes.values()) <= set(functions):
            raise ContractError(
                f"api routes: every path of the contract needs a route group of {sorted(functions)}; unrouted "
                f"{unrouted}, unknown groups {sorted(set(routes.values()) - set(functions))}"
            )
        self.rest_api = ApiGatewayRestApi(
            self,
            "rest_api",
            name=config.name,
            api_key_source="HEADER",
            description="Serverless API baseline",
            endpoint_configuration=ApiGatewayRestApiEndpointConfiguration(types=["REGIONAL"]),
            disable_execute_api_endpoint=not execute_api_endpoint,
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        api_id = self.rest_api.id
        self.authorizer = (
            ApiGatewayAuthorizer(
                self,
                "authorizer",
                name="cognito",
                rest_api_id=api_id,
                type="COGNITO_USER_POOLS",
                provider_arns=[identity.user_pool_arn],
                identity_source="method.request.header.Authorization",
            )
            if identity
            else None
        )
        self.methods = {}
        fallback = next(iter(functions.values()))
        invoke_uris = {path: functions[group].alias.invoke_arn for path, group in routes.items()}
        parts = self._routes(contract, invoke_uris, fallback.alias.invoke_arn)
        responses = self._gateway_responses(api_id)
        parts += [r.id for r in responses]
        if config.cors:
            parts += self._preflights(config.cors)
        self.policy = (
            ApiGatewayRestApiPolicy(self, "policy", rest_api_id=api_id, policy=document(self._resource_policy(account)))
            if config.enable_resource_policy
            else None
        )
        static = {
            "paths": contract.get("paths", {}),
            "components": contract.get("components", {}),
            "responses": _GATEWAY_RESPONSES,
            "cors": config.cors.function_environment() if config.cors else None,
        }
        definition_hash = hashlib.sha256(json.dumps(static, sort_keys=True).encode()).hexdigest()
        self.deployment = ApiGatewayDeployment(
            self,
            "deployment",
            rest_api_id=api_id,
            # Any change to the API's definition yields a new deployment; the stage then moves to it. A resource
            # policy takes effect only with a new deployment too.
            triggers={
                "redeployment": Fn.sha1(
                    Fn.jsonencode([definition_hash, *parts, *([self.policy.policy] if self.policy else [])])
                )
            },
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[self.policy] if self.policy else None,
        )
        for index, (group, function) in enumerate(functions.items()):
            LambdaPermission(
                self,
                "invoke_permission" if index == 0 else f"invoke_permission_{slug(group)}",
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

    def metric(self, name: str, stat: str = "Sum") -> Metric:
        """API Gateway's metric ``name`` of this API's stage (see ``api_metric``)."""
        return api_metric(self._config, name, stat)

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

    def _fallback_access(self, path: str | None) -> Access:
        """Who reaches the function's 404/405 on ``path`` (None: an undocumented path): a signed caller on a path
        that is signed, the key on a path that needs only the key, else any access token of this API with the key.
        An unknown path tells an anonymous caller nothing."""
        here = [op for op in self.operations if op.path == path]
        signed = [op for op in here if op.access.authorization == "AWS_IAM"]
        if signed:
            return signed[0].access
        if here and all(op.access.public for op in here):
            return Access("NONE", api_key_required=any(op.access.api_key_required for op in here))
        scopes = sorted({s for op in self.operations for s in op.access.scopes})
        if scopes:
            return Access("COGNITO_USER_POOLS", tuple(scopes), api_key_required=True)
        return Access("NONE", api_key_required=True)

    def _method(
        self, name: str, resource_id: str, http_method: str, access: Access, where: str, **kwargs
    ) -> ApiGatewayMethod:
        if access.authorization == "COGNITO_USER_POOLS" and self.authorizer is None:
            raise ContractError(
                f"{where}: the contract requires an access token (scopes {list(access.scopes)}), and the environment "
                "has no identity: set EnvironmentConfig.identity (a user pool, or an external one's ARN)"
            )
        method = ApiGatewayMethod(
            self,
            f"{name}_method",
            rest_api_id=self.rest_api.id,
            resource_id=resource_id,
            http_method=http_method,
            authorization=access.authorization,
            authorizer_id=self.authorizer.id if access.authorization == "COGNITO_USER_POOLS" else None,
            authorization_scopes=list(access.scopes) or None,
            api_key_required=access.api_key_required,
            **kwargs,
        )
        self.methods[where] = method
        return method

    def _routes(self, contract: Mapping[str, Any], invoke_uris: Mapping[str, str], fallback_uri: str) -> list:
        """Resources, methods, request models and validators from the OpenAPI ``contract``.

        Every operation becomes a method with the caller check its security declares, proxying to the alias and
        validating its JSON body against a draft-04 model of the document's schema. Each declared path also gets
        ``ANY`` (so the function answers 405 with the methods it has), and ``/{proxy+}`` sends every other path to
        the first group's 404; both behind ``_fallback_access``. A declared path proxies to the alias of the group
        that serves it.
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
        self._params_validator = params_validator = ApiGatewayRequestValidator(
            self,
            "params_validator",
            rest_api_id=api_id,
            name="params",
            validate_request_body=False,
            validate_request_parameters=True,
        )
        models: dict[str, ApiGatewayModel] = {}
        self._resources = {"/": self.rest_api.root_resource_id}
        parts: list = []
        targets: list[tuple[str, str, str, Operation | None, str | None]] = []
        paths = sorted(contract.get("paths", {}))
        for op in self.operations:
            resource_id = self._resource(op.path, parts)
            targets.append((f"{slug(op.path)}_{op.method.lower()}", resource_id, op.method, op, op.path))
        for path in paths:
            if path != "/":
                targets.append((f"{slug(path)}_any", self._resource(path, parts), "ANY", None, path))
        proxy = ApiGatewayResource(
            self, "proxy_resource", rest_api_id=api_id, parent_id=self.rest_api.root_resource_id, path_part="{proxy+}"
        )
        parts.append(proxy.id)
        if "/" not in paths:
            targets.append(("root_any", self.rest_api.root_resource_id, "ANY", None, None))
        targets.append(("proxy_any", proxy.id, "ANY", None, None))
        for name, resource_id, http_method, op, path in targets:
            spec = op.spec if op else {}
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            model = self._model(body, components, models) if body else None
            where = f"{http_method} {path or ('/{proxy+}' if name == 'proxy_any' else '/')}"
            method = self._method(
                name,
                resource_id,
                http_method,
                op.access if op else self._fallback_access(path),
                where,
                request_validator_id=(body_validator if model else params_validator).id,
                request_models={"application/json": model.name} if model else None,
                request_parameters=parameters(spec) or None,
            )
            integration = ApiGatewayIntegration(
                self,
                f"{name}_integration",
                rest_api_id=api_id,
                resource_id=resource_id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",
                uri=invoke_uris.get(path, fallback_uri) if path else fallback_uri,
            )
            parts += [method.id, integration.id, integration.uri]
        return parts

    def _resource(self, path: str, parts: list) -> str:
        """The resource of ``path``, creating it and its parents as needed."""
        if path in self._resources:
            return self._resources[path]
        parent_path = path.rsplit("/", 1)[0] or "/"
        parent = self._resource(parent_path, parts)
        resource = ApiGatewayResource(
            self,
            f"{slug(path)}_resource",
            rest_api_id=self.rest_api.id,
            parent_id=parent,
            path_part=path.rsplit("/", 1)[1],
        )
        parts.append(resource.id)
        self._resources[path] = resource.id
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

    def _resource_policy(self, account: AccountContext) -> list[dict]:
        """Everyone may reach the methods a token or the key guards (their authorizer decides); the signed methods
        are left out of that grant, so a principal of this account needs its own identity policy and one of another
        account is refused unless it is in ``iam_principal_org_id``. A REST API with a resource policy refuses every
        request the policy does not allow."""
        config = self._config
        arn = self.rest_api.execution_arn
        signed = sorted(
            {
                f"{arn}/*/{op.method}/{execute_api_path(op.path)}"
                for op in self.operations
                if op.access.authorization == "AWS_IAM"
            }
            | {
                f"{arn}/*/*/{execute_api_path(op.path)}"
                for op in self.operations
                if op.access.authorization == "AWS_IAM"
            }
        )
        statements: list[dict] = [
            {
                "Sid": "TokenAndKeyMethods",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                **({"NotResource": signed} if signed else {"Resource": f"{arn}/*"}),
            }
        ]
        if not signed:
            return statements
        outside = {"StringNotEquals": {"aws:PrincipalAccount": account.account_id}}
        if config.iam_principal_org_id:
            statements.append(
                {
                    "Sid": "SignedMethodsFromTheOrganization",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": signed,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": config.iam_principal_org_id}},
                }
            )
            outside["StringNotEquals"]["aws:PrincipalOrgID"] = config.iam_principal_org_id
        statements.append(
            {
                "Sid": "SignedMethodsOnlyFromHere",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": signed,
                "Condition": outside,
            }
        )
        if config.iam_source_vpce_ids:
            statements.append(
                {
                    "Sid": "SignedMethodsOnlyThroughTheseEndpoints",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "execute-api:Invoke",
                    "Resource": signed,
                    "Condition": {"StringNotEquals": {"aws:SourceVpce": list(config.iam_source_vpce_ids)}},
                }
            )
        return statements

    def _preflights(self, cors: CorsConfig) -> list:
        """One ``OPTIONS`` per documented path, answered by API Gateway with a mock integration (no token, no key:
        a browser's preflight carries neither)."""
        parts: list = []
        by_path: dict[str, list[str]] = {}
        for op in self.operations:
            if op.access.authorization != "AWS_IAM":  # a browser never signs with SigV4
                by_path.setdefault(op.path, []).append(op.method)
        for path, methods in sorted(by_path.items()):
            name = f"{slug(path)}_preflight"
            method = self._method(
                name,
                self._resources[path],
                "OPTIONS",
                Access("NONE"),
                f"OPTIONS {path}",
                request_validator_id=self._params_validator.id,
            )
            headers = cors.preflight_headers(methods)
            integration = ApiGatewayIntegration(
                self,
                f"{name}_integration",
                rest_api_id=self.rest_api.id,
                resource_id=method.resource_id,
                http_method=method.http_method,
                type="MOCK",
                request_templates={"application/json": '{"statusCode": 204}'},
            )
            declared = ApiGatewayMethodResponse(
                self,
                f"{name}_response",
                rest_api_id=self.rest_api.id,
                resource_id=method.resource_id,
                http_method=method.http_method,
                status_code="204",
                response_parameters={
                    f"method.response.header.{header}": False for header in ("Access-Control-Allow-Origin", *headers)
                },
            )
            answer = ApiGatewayIntegrationResponse(
                self,
                f"{name}_integration_response",
                rest_api_id=self.rest_api.id,
                resource_id=method.resource_id,
                http_method=method.http_method,
                status_code=declared.status_code,
                response_parameters={f"method.response.header.{h}": f"'{v}'" for h, v in headers.items()},
                response_templates={"application/json": cors.preflight_template()},
                depends_on=[integration],
            )
            parts += [method.id, integration.id, answer.id]
        return parts

    def _gateway_responses(self, api_id: str) -> list[ApiGatewayGatewayResponse]:
        cors = self._config.cors
        headers = (
            {f"gatewayresponse.header.{h}": v for h, v in cors.gateway_response_headers().items()} if cors else None
        )
        return [
            ApiGatewayGatewayResponse(
                self,
                f"response_{kind.lower()}",
                rest_api_id=api_id,
                response_type=kind,
                status_code=status,
                response_templates={"application/json": template},
                response_parameters=headers,
            )
            for kind, status, template in _GATEWAY_RESPONSES
        ]


# Errors raised by API Gateway itself (no or a bad token or key, a missing scope, throttled, body rejected) answer in
# the same JSON shape as the function's. A body that fails the model is a 422, like the function's own schema
# errors. These templates are not VTL: API Gateway only substitutes variables, so nothing here may call $util, and
# only the pre-quoted messageString can go in unquoted (validationErrorString holds raw quotes and would break JSON).
_GATEWAY_RESPONSES = (
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
