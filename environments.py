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
from modules.validation import check_choice, check_pattern, check_type, fail
from modules.waf import WafConfig
from tools.emulator import DEFAULT_EMULATOR_PORT

ENVIRONMENT_NAMES = ("local", "dev", "prod")
APP_NAME = "serverless-app"
PROJECT_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployable environment. ``app_name`` + ``environment`` name the stack and its resources."""

    environment: str
    owner: str
    cost_center: str
    state: RemoteStateConfig
    encryption_key: EncryptionKeyConfig
    log_archive: LogArchiveConfig
    log_shipping: LogShippingConfig
    function: FunctionConfig
    api: ApiConfig
    monitoring: MonitoringConfig
    autoscaling: AutoscalingConfig = field(default_factory=AutoscalingConfig)
    waf: WafConfig | None = None
    app_name: str = APP_NAME
    region: str = REGION
    allowed_account_ids: tuple[str, ...] = ()
    emulator: EmulatorConfig | None = None
    bootstrap_state_dir: str = str(PROJECT_DIR / ".state")
    # False only where the emulator applies a Deny statement without evaluating its conditions: there the
    # TLS-only and encryption denies cover the bucket ARN but not its objects (see SecureBucketConfig).
    s3_object_level_denies: bool = True
    provider: ProviderConfig = field(init=False)

    def __post_init__(self) -> None:
        check_choice("environment", self.environment, ENVIRONMENT_NAMES)
        # The app name prefixes buckets, functions and log groups; this keeps every derived name valid.
        check_pattern("app_name", self.app_name, r"[a-z][a-z0-9-]{1,22}[a-z0-9]",
                      "3-24 characters of a-z, 0-9 and '-', starting with a letter")
        check_pattern("owner", self.owner, r"[\w.@+=:/ -]{1,256}", "1-256 characters valid in an AWS tag value")
        check_pattern("cost_center", self.cost_center, r"[\w.@+=:/ -]{1,256}",
                      "1-256 characters valid in an AWS tag value")
        check_region("region", self.region)
        check_type("state", self.state, RemoteStateConfig)
        check_type("s3_object_level_denies", self.s3_object_level_denies, bool)
        check_type("encryption_key", self.encryption_key, EncryptionKeyConfig)
        check_type("log_archive", self.log_archive, LogArchiveConfig)
        check_type("log_shipping", self.log_shipping, LogShippingConfig)
        check_type("function", self.function, FunctionConfig)
        check_type("api", self.api, ApiConfig)
        check_type("autoscaling", self.autoscaling, AutoscalingConfig)
        check_type("waf", self.waf, (WafConfig, type(None)))
        check_type("monitoring", self.monitoring, MonitoringConfig)
        if self.monitoring.api_latency_p99_ms > self.function.timeout_seconds * 1000:
            raise fail("monitoring.api_latency_p99_ms", self.monitoring.api_latency_p99_ms,
                       f"<= function.timeout_seconds * 1000 ({self.function.timeout_seconds * 1000}): a p99 above the "
                       "timeout can never be reached, so the alarm could never fire")
        buffering = self.log_shipping.buffering_interval_in_seconds
        if self.monitoring.log_delivery_freshness_seconds <= buffering:
            raise fail("monitoring.log_delivery_freshness_seconds", self.monitoring.log_delivery_freshness_seconds,
                       f"> log_shipping.buffering_interval_in_seconds ({buffering}): records legitimately wait that "
                       "long in the buffer")
        if self.autoscaling.enable_provisioned_concurrency and (
                self.autoscaling.max_capacity > self.function.reserved_concurrency):
            raise fail("autoscaling.max_capacity", self.autoscaling.max_capacity,
                       f"<= function.reserved_concurrency ({self.function.reserved_concurrency}): provisioned "
                       "concurrency comes out of the function's reservation")
        if self.environment == "prod" and (self.log_archive.bucket.force_destroy or
                                           not self.log_archive.bucket.prevent_destroy):
            raise fail("log_archive.bucket.prevent_destroy", self.log_archive.bucket.prevent_destroy,
                       "True with force_destroy False in prod (the archive is the audit record)")
        if self.environment != "local" and not self.s3_object_level_denies:
            raise fail("s3_object_level_denies", False, f"True for environment={self.environment!r} (only the "
                       "emulator may relax it)")
        if (self.environment == "local") != (self.emulator is not None):
            raise fail("emulator", self.emulator,
                       f"an EmulatorConfig for 'local' only (environment={self.environment!r})")
        object.__setattr__(self, "provider", ProviderConfig(
            default_tags=self.tags, region=self.region, allowed_account_ids=self.allowed_account_ids,
            emulator=self.emulator))

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
        return {"Project": self.app_name, "Environment": self.environment, "ManagedBy": "cdktf",
                "Owner": self.owner, "CostCenter": self.cost_center}


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
    return FunctionConfig(name=f"{_names(environment)}-api", service_name=APP_NAME,
                          metrics_namespace=f"{APP_NAME}/{environment}", **overrides)


def load(environ: os._Environ | dict | None = None) -> dict[str, EnvironmentConfig]:
    """Build every environment's config; raises ``ValueError`` naming the field on any invalid value."""
    environ = os.environ if environ is None else environ
    port = environ.get("EMULATOR_PORT", str(DEFAULT_EMULATOR_PORT))
    common = {"owner": "platform-team", "cost_center": "cc-0000", "state": _state(environ),
              "bootstrap_state_dir": environ.get("BOOTSTRAP_STATE_DIR", str(PROJECT_DIR / ".state"))}
    # Throw-away environments: deleting the stack deletes its data. Production data is never deleted by Terraform.
    disposable = {"prevent_destroy": False, "force_destroy": True}
    protected = {"prevent_destroy": True, "force_destroy": False}
    return {
        "local": EnvironmentConfig(
            environment="local",
            emulator=EmulatorConfig(endpoint=f"http://127.0.0.1:{port}"),
            s3_object_level_denies=False,
            encryption_key=EncryptionKeyConfig(alias=_names("local"), deletion_window_in_days=7,
                                               prevent_destroy=False, **SERVICE_KEY_USERS),
            log_archive=LogArchiveConfig(bucket=SecureBucketConfig(
                name=f"{_names('local')}-logs", object_level_denies=False, **disposable)),
            # Short buffers so a local request reaches the archive quickly.
            log_shipping=LogShippingConfig(name_prefix=_names("local"), buffering_interval_in_seconds=60,
                                           log_retention_in_days=7),
            # The emulator does not return these two settings, so without this every plan would re-add them.
            function=_function("local", reserved_concurrency=20,
                               ignore_changes=("dead_letter_config", "logging_config")),
            api=ApiConfig(name=_names("local"), throttle_rate_limit=50, throttle_burst_limit=100,
                          usage_plan_rate_limit=50, usage_plan_burst_limit=100, usage_plan_quota_per_day=1_000_000),
            # Off: the emulator does not implement Application Auto Scaling's tag listing, which the provider
            # calls after creating a scalable target.
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),
            waf=None,  # the emulator has no WAF enforcement to test against; prod has it
            monitoring=MonitoringConfig(name=_names("local")),
            **common),
        "dev": EnvironmentConfig(
            environment="dev",
            allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_DEV")),
            encryption_key=EncryptionKeyConfig(alias=_names("dev"), deletion_window_in_days=7,
                                               prevent_destroy=False, **SERVICE_KEY_USERS),
            log_archive=LogArchiveConfig(bucket=SecureBucketConfig(name=f"{_names('dev')}-logs", **disposable)),
            log_shipping=LogShippingConfig(name_prefix=_names("dev"), buffering_interval_in_seconds=60,
                                           log_retention_in_days=14),
            function=_function("dev", reserved_concurrency=20),
            api=ApiConfig(name=_names("dev"), throttle_rate_limit=50, throttle_burst_limit=100,
                          usage_plan_rate_limit=20, usage_plan_burst_limit=40, usage_plan_quota_per_day=500_000),
            autoscaling=AutoscalingConfig(enable_provisioned_concurrency=False),  # off to save cost
            waf=None,
            monitoring=MonitoringConfig(name=_names("dev"), api_4xx_rate_percent=25.0),
            **common),
        "prod": EnvironmentConfig(
            environment="prod",
            allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_PROD")),
            encryption_key=EncryptionKeyConfig(alias=_names("prod"), deletion_window_in_days=30,
                                               prevent_destroy=True, **SERVICE_KEY_USERS),
            log_archive=LogArchiveConfig(bucket=SecureBucketConfig(
                name=f"{_names('prod')}-logs", noncurrent_version_expiration_days=365, **protected)),
            log_shipping=LogShippingConfig(name_prefix=_names("prod"), buffering_interval_in_seconds=300,
                                           buffering_size_in_mb=5, log_retention_in_days=30),
            function=_function("prod", reserved_concurrency=200, memory_size_mb=512),
            api=ApiConfig(name=_names("prod"), throttle_rate_limit=1000, throttle_burst_limit=2000,
                          usage_plan_rate_limit=500, usage_plan_burst_limit=1000, usage_plan_quota_per_day=50_000_000),
            autoscaling=AutoscalingConfig(
                enable_provisioned_concurrency=True, min_capacity=2, max_capacity=50, target_utilization=0.7,
                scheduled=(ScheduledCapacity(name="business-hours", schedule="cron(0 12 ? * MON-FRI *)",
                                             min_capacity=5, max_capacity=50),
                           ScheduledCapacity(name="off-hours", schedule="cron(0 23 ? * MON-FRI *)",
                                             min_capacity=2, max_capacity=50))),
            waf=WafConfig(name=_names("prod"), rate_limit_per_5_minutes=2000),
            monitoring=MonitoringConfig(name=_names("prod"), lambda_error_rate_percent=0.5, api_5xx_rate_percent=0.5,
                                        api_latency_p99_ms=1000.0),
            **common),
    }


# Every environment's key is used by the same services; the key policy grants exactly these.
SERVICE_KEY_USERS = {"allow_cloudwatch_logs": True, "allow_firehose": True, "allow_cloudwatch_alarms_to_sns": True,
                     "allow_lambda": True}


def bootstrap_environment(environ: os._Environ | dict | None = None) -> str:
    """Which environment's account the bootstrap stack targets (``BOOTSTRAP_ENV``, default the emulator)."""
    environ = os.environ if environ is None else environ
    name = environ.get("BOOTSTRAP_ENV", "local")
    check_choice("BOOTSTRAP_ENV", name, ENVIRONMENT_NAMES)
    return name
