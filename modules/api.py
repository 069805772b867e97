"""The REST API: regional API Gateway in front of each route group's ``live`` alias, its methods, authorizers, request
models and CORS built from the OpenAPI contract; throttled, metered by usage plan, logged."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.api_gateway_authorizer import ApiGatewayAuthorizer
from cdktf_cdktf_provider_aws.api_gateway_deployment import ApiGatewayDeployment
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
from modules.api_config import ACCESS_LOG_FORMAT, ApiConfig, api_metric
from modules.api_policy import resource_policy
from modules.api_responses import GATEWAY_RESPONSES, gateway_responses, preflights
from modules.function import Function
from modules.iam import document
from modules.identity import Identity
from modules.log_shipping import LogShipping
from modules.openapi import Access, ContractError, Operation, draft4, operations, parameters, slug


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
    """Who may invoke which method (see ``modules.api_policy``)."""
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
        parts += [response.id for response in gateway_responses(self, api_id, config.cors)]
        if config.cors:
            parts += preflights(
                self,
                rest_api_id=api_id,
                cors=config.cors,
                operations=self.operations,
                resources=self._resources,
                method=self._method,
                request_validator_id=self._params_validator.id,
            )
        statements = resource_policy(
            self.operations,
            self.rest_api.execution_arn,
            account_id=account.account_id,
            org_id=config.iam_principal_org_id,
            source_vpce_ids=config.iam_source_vpce_ids,
        )
        self.policy = (
            ApiGatewayRestApiPolicy(self, "policy", rest_api_id=api_id, policy=document(statements))
            if config.enable_resource_policy
            else None
        )
        static = {
            "paths": contract.get("paths", {}),
            "components": contract.get("components", {}),
            "responses": GATEWAY_RESPONSES,
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
