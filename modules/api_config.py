"""The REST API's settings: limits checked against API Gateway's account defaults, the JSON access-log line, and
the stage's metrics by name (plain strings, so alarms can be declared before the API is)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from modules.alarms import Metric
from modules.cors import CorsConfig
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
