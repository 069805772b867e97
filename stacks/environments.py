"""Every environment's settings, in one place: the differences between local, dev and prod are visible here.

Values a deployment must supply without editing code come from environment variables, all documented in the
README and listed in ``DEPLOYMENT_VARIABLES``. dev and prod are synthesized only once both their account
(``AWS_ACCOUNT_ID_<ENV>``) and their state key (``TF_STATE_KMS_KEY_ARN_<ENV>``) are set: a stack that could only
reach the wrong account, or write state the bucket refuses, is never written, so no tool (``make``, ``cdktf
deploy``, plain ``terraform``) can plan it; synth prints what is missing instead. A state key without its account
is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from modules.api import ApiConfig
from modules.api_domain import DomainConfig
from modules.api_gateway_account import ApiGatewayAccountConfig
from modules.autoscaling import AutoscalingConfig, ScheduledCapacity
from modules.aws_provider import REGION, EmulatorConfig, ProviderConfig, check_region
from modules.cors import CorsConfig
from modules.deploy_roles import DeployRolesConfig, DeployTarget, apply_role_path
from modules.encryption_key import EncryptionKeyConfig
from modules.function import FunctionConfig
from modules.identity import IdentityConfig
from modules.log_archive import LogArchiveConfig
from modules.log_query import LogQueryConfig
from modules.log_shipping import LogShippingConfig
from modules.monitoring import MonitoringConfig
from modules.release import ReleaseConfig
from modules.remote_state import RemoteStateConfig
from modules.secure_bucket import SecureBucketConfig
from modules.validation import Checks, collect_errors
from modules.waf import WafConfig

ENVIRONMENT_NAMES = ("local", "dev", "prod")
# Every variable the configuration reads: tests clear them all, so a machine or CI job that sets any (GitHub sets
# GITHUB_REPOSITORY in every job) cannot change what they synthesize. "{ENV}" stands for each environment's name.
DEPLOYMENT_VARIABLES = (
    "AWS_ACCOUNT_ID_{ENV}",
    "TF_STATE_KMS_KEY_ARN_{ENV}",
    "ALARM_EMAILS_{ENV}",
    "ALARM_HTTPS_ENDPOINTS_{ENV}",
    "GITHUB_REPOSITORY",
    "GITHUB_OIDC_PROVIDER_ARN",
    "TF_STATE_BUCKET",
    "TF_STATE_KEY_PREFIX",
    "TF_STATE_REGION",
    "BOOTSTRAP_ENV",
    "BOOTSTRAP_STATE_DIR",
    "EMULATOR_PORT",
)
APP_NAME = "serverless-app"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_EMULATOR_PORT = 4599
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
    function: FunctionConfig
    """The API's Lambda function."""
    api: ApiConfig
    """The REST API."""
    monitoring: MonitoringConfig
    """Alarms, topic and dashboard."""
    log_query: LogQueryConfig
    """The archive's Glue tables, Athena workgroup, saved queries and reader role."""
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    """Provisioned concurrency (default off)."""
    waf: WafConfig | None = None
    """The web ACL on the stage (default none)."""
    api_gateway_account: ApiGatewayAccountConfig | None = None
    """The account's API Gateway logging role, created by this account's bootstrap stack."""
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    """How ``make release`` shifts the ``live`` alias to a new version (default all at once)."""
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
    s3_object_level_denies: bool = True
    """False only where the emulator applies a Deny statement without evaluating its conditions: there the
    TLS-only and encryption denies cover the bucket ARN but not its objects (see ``SecureBucketConfig``)."""
    provider: ProviderConfig = field(init=False)
    """Derived: region, tags, account guard and emulator endpoints of the stack's provider."""

    def __post_init__(self) -> None:
        checks = Checks()
        checks.choice("environment", self.environment, ENVIRONMENT_NAMES)
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
            "function": FunctionConfig,
            "api": ApiConfig,
            "autoscaling": AutoscalingConfig,
            "waf": (WafConfig, type(None)),
            "monitoring": MonitoringConfig,
            "log_query": LogQueryConfig,
            "api_gateway_account": (ApiGatewayAccountConfig, type(None)),
            "release": ReleaseConfig,
            "identity": (IdentityConfig, type(None)),
            "domain": (DomainConfig, type(None)),
        }
        typed = {name: checks.type(name, getattr(self, name), kind) for name, kind in sections.items()}
        checks.type("s3_object_level_denies", self.s3_object_level_denies, bool)
        # Rules across sections; each runs only when the values it reads have the right types.
        monitoring, function, shipping = self.monitoring, self.function, self.log_shipping
        if (
            typed["monitoring"]
            and typed["function"]
            and _numbers(monitoring.api_latency_p99_ms, function.timeout_seconds)
        ):
            checks.that(
                monitoring.api_latency_p99_ms <= function.timeout_seconds * 1000,
                "monitoring.api_latency_p99_ms",
                monitoring.api_latency_p99_ms,
                f"<= function.timeout_seconds * 1000 ({function.timeout_seconds * 1000}): a p99 above the "
                "timeout can never be reached, so the alarm could never fire",
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
        scaling = self.autoscaling
        if (
            typed["autoscaling"]
            and typed["function"]
            and scaling.enable_provisioned_concurrency is True
            and _numbers(scaling.max_capacity, function.reserved_concurrency)
        ):
            checks.that(
                scaling.max_capacity <= function.reserved_concurrency,
                "autoscaling.max_capacity",
                scaling.max_capacity,
                f"<= function.reserved_concurrency ({function.reserved_concurrency}): provisioned "
                "concurrency comes out of the function's reservation",
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
        release = self.release
        if (
            typed["release"]
            and typed["monitoring"]
            and release.strategy in ("canary", "linear")
            and _numbers(monitoring.period_seconds, monitoring.release_gate_evaluation_periods)
        ):
            checks.that(
                monitoring.release_gate_seconds <= release.interval_minutes * 60,
                "monitoring.release_gate_evaluation_periods",
                monitoring.release_gate_evaluation_periods,
                f"at most {max(1, release.interval_minutes * 60 // monitoring.period_seconds)} (x "
                f"{monitoring.period_seconds} s periods): a release gate must be able to fire within one "
                f"{release.interval_minutes}-minute step of the {release.strategy} release, before more traffic moves",
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
        if self.environment == "prod" and typed["log_archive"]:
            bucket = self.log_archive.bucket
            checks.that(
                not bucket.force_destroy and bucket.prevent_destroy is True,
                "log_archive.bucket.prevent_destroy",
                bucket.prevent_destroy,
                "True with force_destroy False in prod (the archive is the audit record)",
            )
        checks.that(
            self.environment != "prod" or self.identity is not None,
            "identity",
            self.identity,
            "an IdentityConfig in prod: a user pool, or an existing one's ARN (external_user_pool_arn); API keys "
            "identify nobody",
        )
        if self.identity is not None and typed["identity"]:
            checks.that(
                self.emulator is not None or self.identity.create_resource_server is True,
                "identity.create_resource_server",
                self.identity.create_resource_server,
                "True outside the emulator (without it the pool issues no token with the contract's scopes)",
            )
        if self.domain is not None and typed["domain"]:
            checks.that(
                self.emulator is not None or self.domain.manage_dns is True,
                "domain.manage_dns",
                self.domain.manage_dns,
                "True outside the emulator (without its records the certificate never validates and the name never "
                "resolves)",
            )
        checks.that(
            self.environment == "local"
            or not typed["encryption_key"]
            or self.encryption_key.enable_key_rotation is True,
            "encryption_key.enable_key_rotation",
            getattr(self.encryption_key, "enable_key_rotation", None),
            f"True for environment={self.environment!r} (only the emulator may turn it off)",
        )
        checks.that(
            self.environment == "local" or not typed["api"] or self.api.enable_resource_policy is True,
            "api.enable_resource_policy",
            getattr(self.api, "enable_resource_policy", None),
            f"True for environment={self.environment!r} (only the emulator may go without it)",
        )
        checks.that(
            self.environment == "local" or self.s3_object_level_denies is not False,
            "s3_object_level_denies",
            self.s3_object_level_denies,
            f"True for environment={self.environment!r} (only the emulator may relax it)",
        )
        checks.that(
            (self.environment == "local") == (self.emulator is not None),
            "emulator",
            self.emulator,
            f"an EmulatorConfig for 'local' only (environment={self.environment!r})",
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
        exemptions = {}
        if not self.s3_object_level_denies:
            exemptions["tls-deny-on-objects"] = "the emulator applies Deny statements without their conditions"
        if not self.function.enable_dead_letter_queue:
            exemptions["dead-letter-queue"] = (
                "the emulator never invokes asynchronously and does not return the setting; the encrypted queue "
                "alone would take 26 s to create"
            )
        if not self.encryption_key.enable_key_rotation:
            exemptions["key-rotation"] = (
                "the emulator never rotates a key, and the provider waits 4 s after enabling rotation (five equal "
                "reads 1 s apart)"
            )
        if not self.api.enable_resource_policy:
            exemptions["api-resource-policy"] = (
                "the emulator returns a REST API's policy unescaped (the provider cannot read it back) and evaluates "
                "none; the request simulation proves prod's"
            )
        if self.identity is not None and not self.identity.create_resource_server:
            exemptions["resource-server"] = (
                "the emulator cannot delete a Cognito resource server; its tokens are signed by `make token`"
            )
        if self.domain is not None and not self.domain.manage_dns:
            exemptions["domain-dns"] = (
                "the emulator resolves no name and issues certificates unchecked; the provider waits 10-30 s after "
                "each Route 53 change"
            )
        if not self.log_archive.bucket.enable_lifecycle_rules:
            exemptions["lifecycle-rules"] = (
                "the provider waits 55 s after each lifecycle PUT (ten equal reads 5 s apart) and the emulator never "
                "runs lifecycle rules"
            )
        return exemptions

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
        if self.emulator is not None:
            return EMULATOR_ACCOUNT_ID
        return self.allowed_account_ids[0] if self.allowed_account_ids else None

    @property
    def api_function(self) -> FunctionConfig:
        """``function`` as the API runs it: with the CORS variables its handler builds Powertools' CORS from."""
        if self.api.cors is None:
            return self.function
        return replace(self.function, environment={**self.function.environment, **self.api.cors.function_environment()})

    @property
    def release_hook(self) -> FunctionConfig | None:
        """The pre-traffic smoke-test function, when the release config asks for one (derived from ``function``)."""
        if not self.release.pre_traffic_hook:
            return None
        return FunctionConfig(
            name=f"{self.app_name}-{self.environment}-release-hook",
            service_name=f"{self.function.service_name}-release-hook",
            metrics_namespace=self.function.metrics_namespace,
            handler="release_hook.handler.lambda_handler",
            memory_size_mb=256,
            timeout_seconds=29,
            reserved_concurrency=2,
            environment={"TARGET_FUNCTION_NAME": self.function.name},
            # CodeDeploy invokes the hook by name, asynchronously: a retry would run the smoke test again and
            # report a second status for one lifecycle event.
            async_retry_attempts=0,
            invoked_by_name=True,
        )

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


def _state(environ: os._Environ | dict, environment: str, account_id: str | None, app_name: str) -> RemoteStateConfig:
    # Bucket names are global: the account id keeps the default from colliding with another account's.
    default_bucket = f"{app_name}-tfstate-{account_id}" if account_id else f"{app_name}-tfstate"
    return RemoteStateConfig(
        bucket=environ.get("TF_STATE_BUCKET", default_bucket),
        kms_key_alias=f"alias/{app_name}-tfstate",
        kms_key_arn=environ.get(f"TF_STATE_KMS_KEY_ARN_{environment.upper()}") or None,
        region=environ.get("TF_STATE_REGION", REGION),
        key_prefix=environ.get("TF_STATE_KEY_PREFIX", ""),
    )


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _monitoring(environ: os._Environ | dict, environment: str, name: str, **overrides) -> MonitoringConfig:
    return MonitoringConfig(
        name=name,
        alarm_emails=_list(environ.get(f"ALARM_EMAILS_{environment.upper()}")),
        alarm_https_endpoints=_list(environ.get(f"ALARM_HTTPS_ENDPOINTS_{environment.upper()}")),
        **overrides,
    )


def _numbers(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def load(environ: os._Environ | dict | None = None, *, app_name: str = APP_NAME) -> dict[str, EnvironmentConfig]:
    """Build every environment's config; raises one ``ConfigError`` naming every invalid field.

    ``app_name`` prefixes every name (tests pass the longest allowed one to prove every derived name fits).
    """
    environ = os.environ if environ is None else environ
    with collect_errors():
        return {name: _environment(name, environ, app_name) for name in ENVIRONMENT_NAMES}


def _environment(environment: str, environ: os._Environ | dict, app: str) -> EnvironmentConfig:
    """The one place where environments differ."""
    prefix = f"{app}-{environment}"
    accounts = _list(environ.get(f"AWS_ACCOUNT_ID_{environment.upper()}")) if environment != "local" else ()
    account_id = EMULATOR_ACCOUNT_ID if environment == "local" else (accounts[0] if accounts else None)
    common = {
        "environment": environment,
        "app_name": app,
        "owner": "platform-team",
        "cost_center": "cc-0000",
        "state": _state(environ, environment, account_id, app),
        "allowed_account_ids": accounts,
        "bootstrap_state_dir": environ.get("BOOTSTRAP_STATE_DIR", str(PROJECT_DIR / ".state")),
        "api_gateway_account": ApiGatewayAccountConfig(role_name=f"{app}-apigateway-cloudwatch"),
    }

    def function(**overrides) -> FunctionConfig:
        return FunctionConfig(
            name=f"{prefix}-api", service_name=app, metrics_namespace=f"{app}/{environment}", **overrides
        )

    # Throw-away environments: deleting the stack deletes its data. Production data is never deleted by Terraform.
    disposable = {"prevent_destroy": False, "force_destroy": True}
    if environment == "local":
        port = environ.get("EMULATOR_PORT", str(DEFAULT_EMULATOR_PORT))
        return EnvironmentConfig(
            **common,
            emulator=EmulatorConfig(endpoint=f"http://127.0.0.1:{port}"),
            s3_object_level_denies=False,
            # No rotation on the emulator: it never rotates key material, and after enabling rotation the provider
            # reads it back until five reads 1 s apart agree (a consistency waiter for AWS): 4 s per key, twice per
            # `make up`. The bootstrap's key follows this one.
            encryption_key=EncryptionKeyConfig(
                alias=prefix, deletion_window_in_days=7, prevent_destroy=False, enable_key_rotation=False
            ),
            # No lifecycle rules on the emulator: it never runs them, and the provider waits 55 s after creating
            # each one (a consistency waiter of ten identical reads, 5 s apart, on AWS as well).
            log_archive=LogArchiveConfig(
                bucket=SecureBucketConfig(
                    name=f"{prefix}-logs", object_level_denies=False, enable_lifecycle_rules=False, **disposable
                )
            ),
            # Short buffers so a local request reaches the archive quickly.
            log_shipping=LogShippingConfig(
                name_prefix=prefix, buffering_interval_in_seconds=60, log_retention_in_days=7
            ),
            # The emulator does not return the logging settings, so without this every plan would re-add them;
            # and it never invokes asynchronously, so no dead-letter queue (see FunctionConfig).
            function=function(
                reserved_concurrency=20, ignore_changes=("logging_config",), enable_dead_letter_queue=False
            ),
            # A browser app on the developer's machine may call the local API (proves the preflight and headers).
            api=ApiConfig(
                name=prefix,
                throttle_rate_limit=50,
                throttle_burst_limit=100,
                usage_plan_rate_limit=50,
                usage_plan_burst_limit=100,
                usage_plan_quota_per_day=1_000_000,
                cors=CorsConfig(allowed_origins=("http://localhost:3000",)),
                # The emulator returns a REST API's policy unescaped, which the provider cannot read back.
                enable_resource_policy=False,
            ),
            # The emulator's Cognito has no token endpoint (`make token` signs the client tokens of its pool with the
            # key the emulator publishes instead), no threat protection, nothing to protect from deletion, and it
            # cannot delete a resource server (a stack holding one never destroys).
            identity=IdentityConfig(
                name=prefix,
                threat_protection="OFF",
                deletion_protection=False,
                token_endpoint=False,
                create_resource_server=False,
            ),
            # No DNS records: the emulator resolves no name and issues the certificate unchecked (and the provider
            # would wait 10-30 s after each Route 53 change).
            domain=DomainConfig(domain_name=f"api.{prefix}.test", manage_dns=False),
            # Off: the emulator does not implement Application Auto Scaling's tag listing, which the provider
            # calls after creating a scalable target.
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),
            waf=None,  # the emulator has no WAF enforcement to test against; prod has it
            monitoring=_monitoring(environ, environment, prefix),
            # The emulator's Athena returns canned results: `make query` runs the same SQL on DuckDB over this
            # archive instead (tools/query.py). Its results bucket has no lifecycle rules, as above.
            log_query=LogQueryConfig(
                name_prefix=prefix,
                results_bucket=SecureBucketConfig(
                    name=f"{prefix}-query-results",
                    object_level_denies=False,
                    enable_lifecycle_rules=False,
                    expiration_days=7,
                    **disposable,
                ),
                # The emulator creates named queries but cannot delete them (no DeleteNamedQuery): a stack holding
                # them never destroys. `make query` reads the same queries from the stack's saved_queries output.
                save_named_queries=False,
            ),
            # No CodeDeploy: the emulator creates CodeDeploy applications and deployment groups but can neither
            # update nor delete them (a stack holding them never destroys), and never runs a deployment. Each
            # apply moves the alias instead; dev and prod release through CodeDeploy.
            release=ReleaseConfig(strategy="direct"),
        )
    if environment == "dev":
        return EnvironmentConfig(
            **common,
            encryption_key=EncryptionKeyConfig(
                alias=prefix,
                deletion_window_in_days=7,
                prevent_destroy=False,
                administrator_role=apply_role_path(prefix),
            ),
            log_archive=LogArchiveConfig(bucket=SecureBucketConfig(name=f"{prefix}-logs", **disposable)),
            log_shipping=LogShippingConfig(
                name_prefix=prefix, buffering_interval_in_seconds=60, log_retention_in_days=14
            ),
            function=function(reserved_concurrency=20),
            api=ApiConfig(
                name=prefix,
                throttle_rate_limit=50,
                throttle_burst_limit=100,
                usage_plan_rate_limit=20,
                usage_plan_burst_limit=40,
                usage_plan_quota_per_day=500_000,
            ),
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),  # off to save cost
            # Threat protection bills every active user on the Plus tier: prod has it, dev does without.
            identity=IdentityConfig(name=prefix, threat_protection="OFF", deletion_protection=False),
            waf=None,
            # One-minute release gates: each step of its one-minute linear release is judged before the next.
            monitoring=_monitoring(
                environ, environment, prefix, api_4xx_rate_percent=25.0, release_gate_evaluation_periods=1
            ),
            log_query=LogQueryConfig(
                name_prefix=prefix,
                results_bucket=SecureBucketConfig(name=f"{prefix}-query-results", expiration_days=7, **disposable),
            ),
            # A short linear release: the same CodeDeploy path as prod, done in 3 minutes.
            release=ReleaseConfig(strategy="linear", percent=25, interval_minutes=1),
        )
    return EnvironmentConfig(
        **common,
        encryption_key=EncryptionKeyConfig(
            alias=prefix, deletion_window_in_days=30, prevent_destroy=True, administrator_role=apply_role_path(prefix)
        ),
        log_archive=LogArchiveConfig(
            bucket=SecureBucketConfig(
                name=f"{prefix}-logs",
                noncurrent_version_expiration_days=365,
                prevent_destroy=True,
                force_destroy=False,
            )
        ),
        log_shipping=LogShippingConfig(
            name_prefix=prefix, buffering_interval_in_seconds=300, buffering_size_in_mb=5, log_retention_in_days=30
        ),
        function=function(reserved_concurrency=200, memory_size_mb=512),
        api=ApiConfig(
            name=prefix,
            throttle_rate_limit=1000,
            throttle_burst_limit=2000,
            usage_plan_rate_limit=500,
            usage_plan_burst_limit=1000,
            usage_plan_quota_per_day=50_000_000,
        ),
        autoscaling=AutoscalingConfig(
            enable_provisioned_concurrency=True,
            min_capacity=2,
            max_capacity=50,
            target_utilization=0.7,
            scheduled=(
                ScheduledCapacity(
                    name="business-hours", schedule="cron(0 12 ? * MON-FRI *)", min_capacity=5, max_capacity=50
                ),
                ScheduledCapacity(
                    name="off-hours", schedule="cron(0 23 ? * MON-FRI *)", min_capacity=2, max_capacity=50
                ),
            ),
        ),
        # Threat protection enforced (Plus tier), deletion protection on; tokens live an hour. To trust an existing
        # pool instead: IdentityConfig(name=prefix, external_user_pool_arn="arn:aws:cognito-idp:…",
        # external_token_url="https://…/oauth2/token"). A custom domain: domain=DomainConfig(
        # domain_name="api.example.com", hosted_zone_id="Z…") (and, optionally, certificate_arn=<ACM ARN in us-east-1>).
        identity=IdentityConfig(name=prefix),
        # One client at its key's full rate (500/s) from one address stays under the per-IP limit.
        # The rules see the first 64 KB of a body (16 KB is WAF's free default; the API accepts 256 KiB).
        waf=WafConfig(name=prefix, rate_limit_per_5_minutes=150_000, body_inspection_limit_kb=64),
        monitoring=_monitoring(
            environ,
            environment,
            prefix,
            lambda_error_rate_percent=0.5,
            api_5xx_rate_percent=0.5,
            api_latency_p99_ms=1000.0,
            require_subscriber=True,
        ),
        # Results are copies of archived lines: kept 30 days (noncurrent versions a day), while the results bucket's
        # own access logs, who read what, stay a year. A query may scan 10 GiB (~$0.05) before Athena stops it.
        log_query=LogQueryConfig(
            name_prefix=prefix,
            results_bucket=SecureBucketConfig(
                name=f"{prefix}-query-results", expiration_days=30, noncurrent_version_expiration_days=1
            ),
            bytes_scanned_cutoff_per_query_mb=10 * 1024,
        ),
        # 10 % of traffic for 5 minutes, then the rest; the smoke test runs before any of it.
        release=ReleaseConfig(strategy="canary", percent=10, interval_minutes=5, pre_traffic_hook=True),
    )


@dataclass(frozen=True)
class BootstrapConfig:
    """What the bootstrap stack of one account creates: the state bucket and key, the account's API Gateway
    logging role, each environment's service-role boundary, and (when a repository is named) the CI deploy roles
    of every environment in the account."""

    environment: EnvironmentConfig
    """The environment whose account is bootstrapped (``BOOTSTRAP_ENV``)."""
    targets: tuple[DeployTarget, ...]
    """Every environment deployed into this account: each gets its service-role boundary (and deploy roles)."""
    deploy_roles: DeployRolesConfig | None
    """GitHub OIDC roles (from ``GITHUB_REPOSITORY``; none for the emulator or when unset)."""

    def __post_init__(self) -> None:
        checks = Checks()
        environment = self.environment
        checks.that(
            environment.emulator is not None or bool(environment.allowed_account_ids),
            "BOOTSTRAP_ENV",
            environment.environment,
            f"an environment whose account is set (set AWS_ACCOUNT_ID_{environment.environment.upper()}: the "
            "bootstrap creates the account's state bucket, named after it)",
        )
        provider = self.deploy_roles.existing_oidc_provider_arn if self.deploy_roles else None
        if provider and environment.account_id:
            checks.that(
                provider.split(":")[4] == environment.account_id,
                "GITHUB_OIDC_PROVIDER_ARN",
                provider,
                f"the OIDC provider of the bootstrapped account {environment.account_id}",
            )
        checks.done()

    @property
    def remote_state(self) -> bool:
        """Whether the bootstrap's own state lives in the state bucket it created: on a real account once the
        state key's ARN is known (``TF_STATE_KMS_KEY_ARN_<ENV>``, the output of the first, local-state apply),
        so that a team, not one laptop, can re-apply the roles. ``make bootstrap`` moves the local state there."""
        return self.environment.emulator is None and self.environment.state.kms_key_arn is not None


def bootstrap_config(
    configs: dict[str, EnvironmentConfig], environ: os._Environ | dict | None = None
) -> BootstrapConfig:
    """The bootstrap of ``BOOTSTRAP_ENV``'s account; boundaries and roles cover every environment in that account."""
    environ = os.environ if environ is None else environ
    config = configs[bootstrap_environment(environ)]
    shared = [
        c
        for c in configs.values()
        if c is config
        or (c.emulator is None and config.emulator is None and c.account_id and c.account_id == config.account_id)
    ]
    targets = tuple(
        DeployTarget(
            environment=c.environment,
            name_prefix=f"{c.app_name}-{c.environment}",
            state_object_prefix=f"{c.state.key_prefix}{c.stack_name}/",
        )
        for c in shared
    )
    repository = environ.get("GITHUB_REPOSITORY", "")
    with collect_errors():
        roles = (
            DeployRolesConfig(
                github_repository=repository,
                targets=targets,
                existing_oidc_provider_arn=environ.get("GITHUB_OIDC_PROVIDER_ARN") or None,
            )
            if config.emulator is None and repository
            else None
        )
        return BootstrapConfig(environment=config, targets=targets, deploy_roles=roles)


def bootstrap_environment(environ: os._Environ | dict | None = None) -> str:
    """Which environment's account the bootstrap stack targets (``BOOTSTRAP_ENV``, default the emulator)."""
    environ = os.environ if environ is None else environ
    name = environ.get("BOOTSTRAP_ENV", "local")
    checks = Checks()
    checks.choice("BOOTSTRAP_ENV", name, ENVIRONMENT_NAMES)
    checks.done()
    return name
