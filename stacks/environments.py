"""Every environment's settings, in one place: the differences between local, dev and prod are visible here.

Values a deployment must supply without editing code come from environment variables, all documented
in the README: ``TF_STATE_BUCKET``, ``TF_STATE_KEY_PREFIX``, ``TF_STATE_REGION``, ``AWS_ACCOUNT_ID_DEV``,
``AWS_ACCOUNT_ID_PROD``, ``EMULATOR_PORT``, ``BOOTSTRAP_ENV`` and ``BOOTSTRAP_STATE_DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from modules.api import ApiConfig
from modules.autoscaling import AutoscalingConfig, ScheduledCapacity
from modules.aws_provider import REGION, EmulatorConfig, ProviderConfig, check_region
from modules.encryption_key import EncryptionKeyConfig
from modules.function import FunctionConfig
from modules.log_archive import LogArchiveConfig
from modules.log_shipping import LogShippingConfig
from modules.monitoring import MonitoringConfig
from modules.remote_state import RemoteStateConfig
from modules.secure_bucket import SecureBucketConfig
from modules.validation import Checks, collect_errors
from modules.waf import WafConfig

ENVIRONMENT_NAMES = ("local", "dev", "prod")
APP_NAME = "serverless-app"
PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_EMULATOR_PORT = 4599


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
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    """Provisioned concurrency (default off)."""
    waf: WafConfig | None = None
    """The web ACL on the stage (default none)."""
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
        if self.environment == "prod" and typed["log_archive"]:
            bucket = self.log_archive.bucket
            checks.that(
                not bucket.force_destroy and bucket.prevent_destroy is True,
                "log_archive.bucket.prevent_destroy",
                bucket.prevent_destroy,
                "True with force_destroy False in prod (the archive is the audit record)",
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
        if self.s3_object_level_denies:
            return {}
        return {"tls-deny-on-objects": "the emulator applies Deny statements without their conditions"}

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


def _state(environ: os._Environ | dict) -> RemoteStateConfig:
    return RemoteStateConfig(
        bucket=environ.get("TF_STATE_BUCKET", f"{APP_NAME}-tfstate"),
        kms_key_alias=f"alias/{APP_NAME}-tfstate",
        region=environ.get("TF_STATE_REGION", REGION),
        key_prefix=environ.get("TF_STATE_KEY_PREFIX", ""),
    )


def _accounts(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _names(environment: str) -> str:
    return f"{APP_NAME}-{environment}"


def _function(environment: str, **overrides) -> FunctionConfig:
    return FunctionConfig(
        name=f"{_names(environment)}-api",
        service_name=APP_NAME,
        metrics_namespace=f"{APP_NAME}/{environment}",
        **overrides,
    )


def _numbers(*values: object) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def load(environ: os._Environ | dict | None = None) -> dict[str, EnvironmentConfig]:
    """Build every environment's config; raises one ``ConfigError`` naming every invalid field."""
    environ = os.environ if environ is None else environ
    with collect_errors():
        return _load(environ)


def _load(environ: os._Environ | dict) -> dict[str, EnvironmentConfig]:
    port = environ.get("EMULATOR_PORT", str(DEFAULT_EMULATOR_PORT))
    common = {
        "owner": "platform-team",
        "cost_center": "cc-0000",
        "state": _state(environ),
        "bootstrap_state_dir": environ.get("BOOTSTRAP_STATE_DIR", str(PROJECT_DIR / ".state")),
    }
    # Throw-away environments: deleting the stack deletes its data. Production data is never deleted by Terraform.
    disposable = {"prevent_destroy": False, "force_destroy": True}
    protected = {"prevent_destroy": True, "force_destroy": False}
    return {
        "local": EnvironmentConfig(
            environment="local",
            emulator=EmulatorConfig(endpoint=f"http://127.0.0.1:{port}"),
            s3_object_level_denies=False,
            encryption_key=EncryptionKeyConfig(
                alias=_names("local"), deletion_window_in_days=7, prevent_destroy=False, **SERVICE_KEY_USERS
            ),
            log_archive=LogArchiveConfig(
                bucket=SecureBucketConfig(name=f"{_names('local')}-logs", object_level_denies=False, **disposable)
            ),
            # Short buffers so a local request reaches the archive quickly.
            log_shipping=LogShippingConfig(
                name_prefix=_names("local"), buffering_interval_in_seconds=60, log_retention_in_days=7
            ),
            # The emulator does not return these two settings, so without this every plan would re-add them.
            function=_function(
                "local", reserved_concurrency=20, ignore_changes=("dead_letter_config", "logging_config")
            ),
            api=ApiConfig(
                name=_names("local"),
                throttle_rate_limit=50,
                throttle_burst_limit=100,
                usage_plan_rate_limit=50,
                usage_plan_burst_limit=100,
                usage_plan_quota_per_day=1_000_000,
            ),
            # Off: the emulator does not implement Application Auto Scaling's tag listing, which the provider
            # calls after creating a scalable target.
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),
            waf=None,  # the emulator has no WAF enforcement to test against; prod has it
            monitoring=MonitoringConfig(name=_names("local")),
            **common,
        ),
        "dev": EnvironmentConfig(
            environment="dev",
            allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_DEV")),
            encryption_key=EncryptionKeyConfig(
                alias=_names("dev"), deletion_window_in_days=7, prevent_destroy=False, **SERVICE_KEY_USERS
            ),
            log_archive=LogArchiveConfig(bucket=SecureBucketConfig(name=f"{_names('dev')}-logs", **disposable)),
            log_shipping=LogShippingConfig(
                name_prefix=_names("dev"), buffering_interval_in_seconds=60, log_retention_in_days=14
            ),
            function=_function("dev", reserved_concurrency=20),
            api=ApiConfig(
                name=_names("dev"),
                throttle_rate_limit=50,
                throttle_burst_limit=100,
                usage_plan_rate_limit=20,
                usage_plan_burst_limit=40,
                usage_plan_quota_per_day=500_000,
            ),
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),  # off to save cost
            waf=None,
            monitoring=MonitoringConfig(name=_names("dev"), api_4xx_rate_percent=25.0),
            **common,
        ),
        "prod": EnvironmentConfig(
            environment="prod",
            allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_PROD")),
            encryption_key=EncryptionKeyConfig(
                alias=_names("prod"), deletion_window_in_days=30, prevent_destroy=True, **SERVICE_KEY_USERS
            ),
            log_archive=LogArchiveConfig(
                bucket=SecureBucketConfig(
                    name=f"{_names('prod')}-logs", noncurrent_version_expiration_days=365, **protected
                )
            ),
            log_shipping=LogShippingConfig(
                name_prefix=_names("prod"),
                buffering_interval_in_seconds=300,
                buffering_size_in_mb=5,
                log_retention_in_days=30,
            ),
            function=_function("prod", reserved_concurrency=200, memory_size_mb=512),
            api=ApiConfig(
                name=_names("prod"),
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
            waf=WafConfig(name=_names("prod"), rate_limit_per_5_minutes=2000),
            monitoring=MonitoringConfig(
                name=_names("prod"), lambda_error_rate_percent=0.5, api_5xx_rate_percent=0.5, api_latency_p99_ms=1000.0
            ),
            **common,
        ),
    }


# Every environment's key is used by the same services; the key policy grants exactly these.
SERVICE_KEY_USERS = {
    "allow_cloudwatch_logs": True,
    "allow_firehose": True,
    "allow_cloudwatch_alarms_to_sns": True,
    "allow_lambda": True,
}


def bootstrap_environment(environ: os._Environ | dict | None = None) -> str:
    """Which environment's account the bootstrap stack targets (``BOOTSTRAP_ENV``, default the emulator)."""
    environ = os.environ if environ is None else environ
    name = environ.get("BOOTSTRAP_ENV", "local")
    checks = Checks()
    checks.choice("BOOTSTRAP_ENV", name, ENVIRONMENT_NAMES)
    checks.done()
    return name
