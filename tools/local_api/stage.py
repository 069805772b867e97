"""What the local API reads from the synthesized ``local`` stack: each route group's function and the paths it serves
(the stack's ``route_groups`` output), the stage and usage plan limits, every method's caller check, request model and
integration, the gateway responses, and the user pool it trusts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import manifest

_RESOURCE_REF = re.compile(r"\$\{aws_api_gateway_resource\.([^.]+)\.id\}")
_MODEL_REF = re.compile(r"\$\{aws_api_gateway_model\.([^.]+)\.name\}")


@dataclass(frozen=True)
class Route:
    """One method as API Gateway runs it."""

    model: dict | None = None
    """The draft-04 request model of its JSON body, if any."""
    authorization: str = "NONE"
    """``NONE``, ``COGNITO_USER_POOLS`` or ``AWS_IAM``."""
    scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    mock_headers: dict[str, str] | None = None
    """A mock integration's static response headers (a CORS preflight); None for the function's proxy."""


@dataclass(frozen=True)
class GatewayResponse:
    status_code: int | None
    template: str
    headers: dict[str, str] = field(default_factory=dict)
    """``gatewayresponse.header.*`` values: a quoted literal, or ``method.request.header.<name>``."""

    def render(self, status: int, message: str, request_headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        """API Gateway's simple substitution (response templates are not VTL), and its header mapping."""
        body = self.template.replace("$context.error.messageString", json.dumps(message))
        lower = {k.lower(): v for k, v in request_headers.items()}
        headers = {}
        for name, value in self.headers.items():
            if value.startswith("'"):
                headers[name] = value.strip("'")
            elif value.startswith("method.request.header.") and value.rsplit(".", 1)[1].lower() in lower:
                headers[name] = lower[value.rsplit(".", 1)[1].lower()]
        return self.status_code or status, body.replace("$context.error.message", message), headers


def read_routes(resources: dict[str, Any]) -> dict[str, dict[str, Route]]:
    """``{"/events": {"POST": Route(...), "ANY": Route(...)}, ...}`` from the API's synthesized resources."""
    nodes = resources.get("aws_api_gateway_resource", {})
    models = {name: json.loads(m["schema"]) for name, m in resources.get("aws_api_gateway_model", {}).items()}
    # Integrations name their method by reference (its http_method attribute): one per method.
    integrations = {i["http_method"]: i for i in resources.get("aws_api_gateway_integration", {}).values()}
    answers = {r["http_method"]: r for r in resources.get("aws_api_gateway_integration_response", {}).values()}

    def path_of(reference: str) -> str:
        found = _RESOURCE_REF.fullmatch(reference)
        if not found:  # the REST API's root resource
            return "/"
        node = nodes[found.group(1)]
        return path_of(node["parent_id"]).rstrip("/") + "/" + node["path_part"]

    routes: dict[str, dict[str, Route]] = {}
    for key, method in resources.get("aws_api_gateway_method", {}).items():
        model = _MODEL_REF.fullmatch((method.get("request_models") or {}).get("application/json", ""))
        method_ref = f"${{aws_api_gateway_method.{key}.http_method}}"
        integration = integrations.get(method_ref, {})
        mock = None
        if integration.get("type") == "MOCK":
            answer = answers.get(method_ref, {})
            mock = {
                name.removeprefix("method.response.header."): value.strip("'")
                for name, value in (answer.get("response_parameters") or {}).items()
            }
        routes.setdefault(path_of(method["resource_id"]), {})[method["http_method"]] = Route(
            model=models[model.group(1)] if model else None,
            authorization=method.get("authorization", "NONE"),
            scopes=tuple(method.get("authorization_scopes") or ()),
            api_key_required=bool(method.get("api_key_required")),
            mock_headers=mock,
        )
    return routes


def match_route(templates: Any, path: str) -> tuple[str, dict[str, str]] | None:
    """The resource API Gateway picks for ``path``, and its path parameters: literal segments beat
    ``{param}``, which beats ``{greedy+}``, from the left."""
    segments = [s for s in path.split("/") if s]
    best: tuple[tuple[int, ...], str, dict[str, str]] | None = None
    for template in templates:
        parts = [p for p in template.split("/") if p]
        params: dict[str, str] = {}
        rank: list[int] = []
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if i >= len(segments):
                    break
                params[part[1:-2]] = "/".join(segments[i:])
                rank.append(0)
                break
            if i >= len(segments) or (not part.startswith("{") and part != segments[i]):
                break
            if part.startswith("{"):
                params[part[1:-1]] = segments[i]
            rank.append(1 if part.startswith("{") else 2)
        else:
            if len(parts) != len(segments):
                continue
        if len(rank) != len(parts):
            continue
        if best is None or tuple(rank) > best[0]:
            best = (tuple(rank), template, params)
    return (best[1], best[2]) if best else None


@dataclass(frozen=True)
class FunctionSpec:
    """One route group's function as the stack deploys it."""

    function_name: str
    handler: str
    bundle: Path
    environment: dict[str, str]
    memory_mb: int
    timeout_seconds: int
    log_group: str
    paths: tuple[str, ...] = ()
    """The contract's paths this group serves (the first group also answers every other path)."""


@dataclass(frozen=True)
class StageSpec:
    """What the runner needs from the synthesized stack."""

    functions: dict[str, FunctionSpec]
    """Each route group's function by group name, the one that answers undeclared paths first."""
    stage_name: str
    stage_rate: float
    stage_burst: int
    plan_rate: float
    plan_burst: int
    usage_plan_name: str
    access_log_group: str
    access_log_format: dict[str, str] = field(default_factory=dict)
    """The stage's access-log line: each key and the ``$context`` variable API Gateway fills it with."""
    user_pool_name: str | None = None
    """The user pool the authorizer trusts (by name; the runner finds its id on the emulator)."""
    routes: dict[str, dict[str, Route]] = field(default_factory=dict)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)

    @property
    def primary(self) -> FunctionSpec:
        return next(iter(self.functions.values()))

    def group_of(self, resource: str | None) -> str:
        """The route group whose function serves ``resource`` (a matched resource path); the first for any other."""
        for name, function in self.functions.items():
            if resource in function.paths:
                return name
        return next(iter(self.functions))

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """The origins the stack allows (the functions' CORS variables, which the preflight template echoes)."""
        return tuple(o for o in self.primary.environment.get("CORS_ALLOWED_ORIGINS", "").split(",") if o)


def read_stage(stack: manifest.Stack) -> StageSpec:
    resources = stack.tf["resource"]
    by_name = {f["function_name"]: f for f in resources["aws_lambda_function"].values()}
    (settings,) = resources["aws_api_gateway_method_settings"].values()
    (plan,) = resources["aws_api_gateway_usage_plan"].values()
    (stage,) = resources["aws_api_gateway_stage"].values()
    pools = [p["name"] for p in resources.get("aws_cognito_user_pool", {}).values()]
    groups = {g["name"] for g in resources["aws_cloudwatch_log_group"].values()}
    throttle = settings["settings"]
    plan_throttle = plan["throttle_settings"]
    functions = {}
    for name, group in stack.route_groups().items():
        function = by_name[group["function_name"]]
        functions[name] = FunctionSpec(
            function_name=function["function_name"],
            handler=function["handler"],
            bundle=stack.directory / function["filename"],
            environment=function["environment"]["variables"],
            memory_mb=function["memory_size"],
            timeout_seconds=function["timeout"],
            log_group=group["log_group"],
            paths=tuple(group["paths"]),
        )
    return StageSpec(
        functions=functions,
        stage_name=stage["stage_name"],
        stage_rate=throttle["throttling_rate_limit"],
        stage_burst=throttle["throttling_burst_limit"],
        plan_rate=plan_throttle["rate_limit"],
        plan_burst=plan_throttle["burst_limit"],
        usage_plan_name=plan["name"],
        access_log_group=next(g for g in groups if g.endswith("/access")),
        access_log_format=json.loads(stage["access_log_settings"]["format"]),
        user_pool_name=pools[0] if pools else None,
        routes=read_routes(resources),
        gateway_responses={
            r["response_type"]: GatewayResponse(
                int(r["status_code"]) if r.get("status_code") else None,
                r["response_templates"]["application/json"],
                {
                    name.removeprefix("gatewayresponse.header."): value
                    for name, value in (r.get("response_parameters") or {}).items()
                },
            )
            for r in resources.get("aws_api_gateway_gateway_response", {}).values()
        },
    )
