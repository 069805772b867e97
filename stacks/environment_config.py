"""One environment's configuration: every module's config and the rules that tie them together. What only the
emulator may relax, and why, is one table in ``stacks/relaxations.py``; the environments themselves are built in
``stacks/environments.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modules.api_config import ApiConfig
from modules.api_domain import DomainConfig
from modules.api_gateway_account import ApiGatewayAccountConfig
from modules.aws_provider import REGION, EmulatorConfig, ProviderConfig, check_region
from modules.encryption_key import EncryptionKeyConfig
from modules.function_config import FunctionConfig
from modules.identity import IdentityConfig
from modules.log_archive import LogArchiveConfig
from modules.log_query import LogQueryConfig
from modules.log_shipping import LogShippingConfig
from modules.monitoring import MonitoringConfig
from modules.remote_state import RemoteStateConfig
from modules.route_group import RouteGroupConfig
from modules.validation import Checks
from modules.waf import WafConfig
from stacks.relaxations import EMULATOR_RELAXATIONS

APP_NAME = "serverless-app"
PROJECT_DIR = Path(__file__).resolve().parent.parent
EMULATED_ENVIRONMENT = "local"
EMULATOR_ACCOUNT_ID = "123456789012"  # the account id the emulator answers with
# A keyed client may send at its usage plan's full rate; WAF's per-IP window is 5 minutes.
WAF_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployable environment: every module's config, and the rules that tie them together."""

    environment: str
    """``local``, ``dev`` or ``prod``; with ``app_name`` it names the stack and its resources."""
    owner: str
    """``Owner`` tag of every resource."""
    cost_center: str
    """``CostCenter`` tag of every resource."""
    state: RemoteStateConfig
    """Where the stack's Terraform state lives."""
    encryption_key: EncryptionKeyConfig
    """The stack's KMS key."""
    log_archive: LogArchiveConfig
    """The archive bucket."""
    log_shipping: LogShippingConfig
    """CloudWatch Logs to archive delivery."""
    route_groups: Mapping[str, RouteGroupConfig]
    """The API's route groups by name (1-16 of a-z, 0-9, starting with a letter): each a function serving the paths
    its package declares, with its scaling and release. The first also answers every undeclared path (404)."""
    api: ApiConfig
    """The REST API."""
    monitoring: MonitoringConfig
    """Alarms, topic and dashboard."""
    log_query: LogQueryConfig
    """The archive's Glue tables, Athena workgroup, saved queries and reader role."""
    waf: WafConfig | None = None
    """The web ACL on the stage (default none)."""
    api_gateway_account: ApiGatewayAccountConfig | None = None
    """The account's API Gateway logging role, created by this account's bootstrap stack."""
    identity: IdentityConfig | None = None
    """Who the callers are: the user pool whose access tokens the API accepts, created or existing (default None;
    required by every operation the contract guards with a token, and by prod)."""
    domain: DomainConfig | None = None
    """The API's custom domain (default None: the stage's execute-api URL). With one, that URL is switched off."""
    app_name: str = APP_NAME
    """Prefix of every name (3-24 of a-z, 0-9, '-', starting with a letter)."""
    region: str = REGION
    """Only ``us-east-1``."""
    allowed_account_ids: tuple[str, ...] = ()
    """Accounts the provider may touch (from ``AWS_ACCOUNT_ID_<ENV>``)."""
    emulator: EmulatorConfig | None = None
    """The local emulator (``local`` only, required there)."""
    bootstrap_state_dir: str = str(PROJECT_DIR / ".state")
    """Where the bootstrap stack keeps its local state."""
    keeps_data: bool = True
    """Whether deleting the stack must never delete its data (default True): the archive bucket and the key are then
    protected from destroy. Only throw-away environments (the emulator's, dev) set False."""
    s3_object_level_denies: bool = True
    """False only where the emulator applies a Deny statement without evaluating its conditions: there the
    TLS-only and encryption denies cover the bucket ARN but not its objects (see ``SecureBucketConfig``)."""
    provider: ProviderConfig = field(init=False)
    """Derived: region, tags, account guard and emulator endpoints of the stack's provider."""

    def __post_init__(self) -> None:
        checks = Checks()
        checks.pattern(
            "environment", self.environment, r"[a-z][a-z0-9]{1,9}", "2-10 of a-z, 0-9, starting with a letter"
        )
        # The app name prefixes buckets, functions and log groups; this keeps every derived name valid.
        checks.pattern(
            "app_name",
            self.app_name,
            r"[a-z][a-z0-9-]{1,22}[a-z0-9]",
            "3-24 characters of a-z, 0-9 and '-', starting with a letter",
        )
        checks.pattern("owner", self.owner, r"[\w.@+=:/ -]{1,256}", "1-256 characters valid in an AWS tag value")
        checks.pattern(
            "cost_center", self.cost_center, r"[\w.@+=:/ -]{1,256}", "1-256 characters valid in an AWS tag value"
        )
        check_region(checks, "region", self.region)
        sections = {
            "state": RemoteStateConfig,
            "encryption_key": EncryptionKeyConfig,
            "log_archive": LogArchiveConfig,
            "log_shipping": LogShippingConfig,
            "api": ApiConfig,
            "waf": (WafConfig, type(None)),
            "monitoring": MonitoringConfig,
            "log_query": LogQueryConfig,
            "api_gateway_account": (ApiGatewayAccountConfig, type(None)),
            "identity": (IdentityConfig, type(None)),
            "domain": (DomainConfig, type(None)),
        }
        typed = {name: checks.type(name, getattr(self, name), kind) for name, kind in sections.items()}
        checks.type("s3_object_level_denies", self.s3_object_level_denies, bool)
        checks.type("keeps_data", self.keeps_data, bool)
        groups = self._checked_route_groups(checks)
        # Rules across sections; each runs only when the values it reads have the right types.
        monitoring, shipping = self.monitoring, self.log_shipping
        timeouts = [g.function.timeout_seconds for g in groups.values()]
        if typed["monitoring"] and timeouts and _numbers(monitoring.api_latency_p99_ms, *timeouts):
            checks.that(
                monitoring.api_latency_p99_ms <= max(timeouts) * 1000,
                "monitoring.api_latency_p99_ms",
                monitoring.api_latency_p99_ms,
                f"<= the longest route group function timeout * 1000 ({max(timeouts) * 1000}): a p99 above it can "
                "never be reached, so the alarm could never fire",
            )
        if (
            typed["monitoring"]
            and typed["log_shipping"]
            and _numbers(monitoring.log_delivery_freshness_seconds, shipping.buffering_interval_in_seconds)
        ):
            buffering = shipping.buffering_interval_in_seconds
            checks.that(
                monitoring.log_delivery_freshness_seconds > buffering,
                "monitoring.log_delivery_freshness_seconds",
                monitoring.log_delivery_freshness_seconds,
                f"> log_shipping.buffering_interval_in_seconds ({buffering}): records legitimately wait that "
                "long in the buffer",
            )
        if (
            self.waf is not None
            and typed["waf"]
            and typed["api"]
            and _numbers(self.waf.rate_limit_per_5_minutes, self.api.usage_plan_rate_limit)
        ):
            floor = int(self.api.usage_plan_rate_limit * WAF_WINDOW_SECONDS)
            checks.that(
                self.waf.rate_limit_per_5_minutes >= floor,
                "waf.rate_limit_per_5_minutes",
                self.waf.rate_limit_per_5_minutes,
                f">= {floor} (api.usage_plan_rate_limit {self.api.usage_plan_rate_limit:g}/s x "
                f"{WAF_WINDOW_SECONDS} s): below it WAF blocks a client from one address before its API key reaches "
                "the plan's rate",
            )
        for name, group in groups.items():
            release = group.release
            if (
                typed["monitoring"]
                and release.strategy in ("canary", "linear")
                and _numbers(monitoring.period_seconds, monitoring.release_gate_evaluation_periods)
            ):
                checks.that(
                    monitoring.release_gate_seconds <= release.interval_minutes * 60,
                    "monitoring.release_gate_evaluation_periods",
                    monitoring.release_gate_evaluation_periods,
                    f"at most {max(1, release.interval_minutes * 60 // monitoring.period_seconds)} (x "
                    f"{monitoring.period_seconds} s periods): a release gate must be able to fire within one "
                    f"{release.interval_minutes}-minute step of route group {name!r}'s {release.strategy} release, "
                    "before more traffic moves",
                )
        arn = self.state.kms_key_arn if typed["state"] else None
        if arn and self.allowed_account_ids and isinstance(arn, str) and arn.count(":") >= 5:
            checks.that(
                arn.split(":")[4] in self.allowed_account_ids,
                "state.kms_key_arn",
                arn,
                f"a key in this environment's account ({', '.join(self.allowed_account_ids)})",
            )
        if self.emulator is None and typed["state"] and self.state.kms_key_arn is not None:
            # A state key names its account: without the account guard it would be a key for nobody in particular.
            checks.that(
                bool(self.allowed_account_ids),
                "allowed_account_ids",
                self.allowed_account_ids,
                f"the account of state.kms_key_arn (set AWS_ACCOUNT_ID_{self.environment.upper()} with "
                f"TF_STATE_KMS_KEY_ARN_{self.environment.upper()})",
            )
        if self.keeps_data is True and typed["log_archive"]:
            bucket = self.log_archive.bucket
            checks.that(
                not bucket.force_destroy and bucket.prevent_destroy is True,
                "log_archive.bucket.prevent_destroy",
                bucket.prevent_destroy,
                "True with force_destroy False where keeps_data is set (the archive is the audit record)",
            )
        if self.keeps_data is True and typed["encryption_key"]:
            checks.that(
                self.encryption_key.prevent_destroy is True,
                "encryption_key.prevent_destroy",
                self.encryption_key.prevent_destroy,
                "True where keeps_data is set (without the key the archive is unreadable)",
            )
        checks.that(
            self.is_emulated or self.identity is not None,
            "identity",
            self.identity,
            "an IdentityConfig outside the emulator: a user pool, or an existing one's ARN (external_user_pool_arn); "
            "API keys identify nobody",
        )
        if not self.is_emulated:
            for relaxation in EMULATOR_RELAXATIONS:
                if relaxation.applies(self):
                    checks.that(
                        False,
                        relaxation.field,
                        relaxation.value(self),
                        f"{relaxation.secure!r} outside the emulator (only the emulator may relax it: "
                        f"{relaxation.reason})",
                    )
        checks.that(
            (self.environment == EMULATED_ENVIRONMENT) == self.is_emulated,
            "emulator",
            self.emulator,
            f"an EmulatorConfig for {EMULATED_ENVIRONMENT!r} only (environment={self.environment!r})",
        )
        checks.done()
        object.__setattr__(
            self,
            "provider",
            ProviderConfig(
                default_tags=self.tags,
                region=self.region,
                allowed_account_ids=self.allowed_account_ids,
                emulator=self.emulator,
            ),
        )

    @property
    def policy_exemptions(self) -> dict[str, str]:
        """Synth-policy rules relaxed for this environment, with the reason printed at every synth."""
        return {r.rule: r.reason for r in EMULATOR_RELAXATIONS if r.applies(self)}

    @property
    def is_emulated(self) -> bool:
        """Whether the stack deploys to the local emulator (the only place a relaxation may apply)."""
        return self.emulator is not None

    def _checked_route_groups(self, checks: Checks) -> dict[str, RouteGroupConfig]:
        """The well-typed route groups; names, function names and metric namespaces unique."""
        if not checks.type("route_groups", self.route_groups, Mapping) or not checks.that(
            len(self.route_groups) > 0, "route_groups", self.route_groups, "at least one route group"
        ):
            return {}
        groups = {}
        for name, group in self.route_groups.items():
            if checks.pattern("route_groups", name, r"[a-z][a-z0-9]{0,15}", "names of 1-16 a-z, 0-9") and checks.type(
                f"route_groups[{name!r}]", group, RouteGroupConfig
            ):
                groups[name] = group
        for label, value in (
            ("function.name", lambda g: g.function.name),
            ("function.metrics_namespace", lambda g: g.function.metrics_namespace),
        ):
            seen: dict[str, str] = {}
            for name, group in groups.items():
                other = seen.setdefault(value(group), name)
                checks.that(
                    other == name,
                    f"route_groups[{name!r}].{label}",
                    value(group),
                    f"a value no other route group has (route group {other!r} has it): each group's alarms read "
                    "its own function's metrics",
                )
        return groups

    @property
    def deployable(self) -> bool:
        """Whether the stack is synthesized: the emulator's always; dev's and prod's once their account and state
        key are both set (see the module docstring)."""
        return not self.missing_settings

    @property
    def missing_settings(self) -> tuple[str, ...]:
        """The variables to set before this environment is synthesized (empty when it is). The account alone is
        enough for its account's bootstrap, whose output is the state key's ARN."""
        variable = self.environment.upper()
        missing = []
        if self.emulator is None and not self.allowed_account_ids:
            missing.append(f"AWS_ACCOUNT_ID_{variable}")
        if self.emulator is None and self.state.kms_key_arn is None:
            missing.append(f"TF_STATE_KMS_KEY_ARN_{variable} (the bootstrap output state_kms_key_arn)")
        return tuple(missing)

    @property
    def account_id(self) -> str | None:
        """The account this environment deploys to, when known (the emulator's, or ``AWS_ACCOUNT_ID_<ENV>``)."""
        if self.is_emulated:
            return EMULATOR_ACCOUNT_ID
        return self.allowed_account_ids[0] if self.allowed_account_ids else None

    @property
    def served_route_groups(self) -> dict[str, RouteGroupConfig]:
        """``route_groups`` as the API runs them: each function with the CORS variables its handler builds
        Powertools' CORS from."""
        if self.api.cors is None:
            return dict(self.route_groups)
        cors = self.api.cors.function_environment()
        return {
            name: replace(g, function=replace(g.function, environment={**g.function.environment, **cors}))
            for name, g in self.route_groups.items()
        }

    @property
    def primary_route_group(self) -> RouteGroupConfig:
        """The first route group: it answers every path no group declares, and keeps the stack's historical names."""
        return next(iter(self.route_groups.values()))

    @property
    def function(self) -> FunctionConfig:
        """The primary route group's function."""
        return self.primary_route_group.function

    def with_function(self, group: str | None = None, **changes: Any) -> EnvironmentConfig:
        """This config with route group ``group``'s function (default the first group's) changed by ``changes``."""
        name = group or next(iter(self.route_groups))
        if name not in self.route_groups:
            raise ValueError(f"route group {name!r}: allowed {', '.join(self.route_groups)}")
        changed = replace(self.route_groups[name], function=replace(self.route_groups[name].function, **changes))
        return replace(self, route_groups={**self.route_groups, name: changed})

    @property
    def stack_name(self) -> str:
        return f"{self.app_name}-{self.environment}"

    @property
    def tags(self) -> dict[str, str]:
        return {
            "Project": self.app_name,
            "Environment": self.environment,
            "ManagedBy": "cdktf",
            "Owner": self.owner,
            "CostCenter": self.cost_center,
        }


def _numbers(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
