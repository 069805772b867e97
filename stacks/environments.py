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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from modules.api_config import ApiConfig
from modules.api_domain import DomainConfig
from modules.api_gateway_account import ApiGatewayAccountConfig
from modules.autoscaling import AutoscalingConfig, ScheduledCapacity
from modules.aws_provider import REGION, EmulatorConfig
from modules.cors import CorsConfig
from modules.deploy_roles import apply_role_path
from modules.encryption_key import EncryptionKeyConfig
from modules.function_config import FunctionConfig
from modules.identity import IdentityConfig
from modules.log_archive import LogArchiveConfig
from modules.log_query import LogQueryConfig
from modules.log_shipping import LogShippingConfig
from modules.monitoring import MonitoringConfig
from modules.release import ReleaseConfig
from modules.remote_state import RemoteStateConfig
from modules.route_group import RouteGroupConfig, SmokeCheck
from modules.secure_bucket import SecureBucketConfig
from modules.validation import collect_errors, fail
from modules.waf import WafConfig
from stacks.environment_config import (  # noqa: F401 (re-exported: the one import of the stacks and tools)
    APP_NAME,
    EMULATED_ENVIRONMENT,
    EMULATOR_ACCOUNT_ID,
    PROJECT_DIR,
    WAF_WINDOW_SECONDS,
    EnvironmentConfig,
)

# The API's route groups, first the one that answers every undeclared path: each is a package under functions/ whose
# app.py declares its routes (stacks/contract.py), with the settings every environment gives its function. A new
# group is one entry here and its package; ROUTE_GROUP_SIZES below sizes it per environment where the default does
# not fit.
ROUTE_GROUPS: dict[str, dict] = {
    "api": {
        "emf_metrics": ("EventsAccepted", "RejectedEvents", "ApplicationErrors"),
        # What the pre-traffic hook asks a new version (where a release has a hook): alive, and accepts an event.
        "smoke_checks": (
            SmokeCheck("GET", "/health", 200),
            SmokeCheck("POST", "/events", 202, body={"type": "release.smoke", "payload": {"source": "release-hook"}}),
        ),
    },
    "admin": {"function": {"memory_size_mb": 128, "reserved_concurrency": 5}},
}
# Per environment: each group's function settings over ROUTE_GROUPS' (reserved concurrency, memory).
ROUTE_GROUP_SIZES: dict[str, dict[str, dict]] = {
    "local": {"api": {"reserved_concurrency": 20}},
    "dev": {"api": {"reserved_concurrency": 20}},
    "prod": {"api": {"reserved_concurrency": 200, "memory_size_mb": 512}},
}
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
DEFAULT_EMULATOR_PORT = 4599
# Throw-away environments: deleting the stack deletes its data. Production data is never deleted by Terraform.
DISPOSABLE = {"prevent_destroy": False, "force_destroy": True}


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


def load(environ: os._Environ | dict | None = None, *, app_name: str = APP_NAME) -> dict[str, EnvironmentConfig]:
    """Build every environment's config; raises one ``ConfigError`` naming every invalid field.

    ``app_name`` prefixes every name (tests pass the longest allowed one to prove every derived name fits).
    """
    environ = os.environ if environ is None else environ
    with collect_errors():
        return {name: build(name, environ, app_name) for name in BUILDERS}


def build(environment: str, environ: os._Environ | dict | None = None, app: str = APP_NAME) -> EnvironmentConfig:
    """The config of one environment, by its builder in ``BUILDERS``; an unknown name is refused."""
    if environment not in BUILDERS:
        raise fail("environment", environment, f"one of {', '.join(BUILDERS)}")
    environ = os.environ if environ is None else environ
    return BUILDERS[environment](_Context(environment, environ, app))


@dataclass(frozen=True)
class _Context:
    """What every builder starts from: the environment's name, the variables it reads, the app's name."""

    environment: str
    environ: Mapping[str, str]
    app: str

    @property
    def prefix(self) -> str:
        return f"{self.app}-{self.environment}"

    @property
    def accounts(self) -> tuple[str, ...]:
        if self.environment == EMULATED_ENVIRONMENT:
            return ()
        return _list(self.environ.get(f"AWS_ACCOUNT_ID_{self.environment.upper()}"))

    def common(self) -> dict:
        """The settings every environment shares (names, tags, state, the account's API Gateway role)."""
        environment, environ, app = self.environment, self.environ, self.app
        accounts = self.accounts
        account_id = EMULATOR_ACCOUNT_ID if environment == EMULATED_ENVIRONMENT else (accounts[0] if accounts else None)
        return {
            "environment": environment,
            "app_name": app,
            "owner": "platform-team",
            "cost_center": "cc-0000",
            "state": _state(environ, environment, account_id, app),
            "allowed_account_ids": accounts,
            "bootstrap_state_dir": environ.get("BOOTSTRAP_STATE_DIR", str(PROJECT_DIR / ".state")),
            "api_gateway_account": ApiGatewayAccountConfig(role_name=f"{app}-apigateway-cloudwatch"),
        }

    def route_groups(
        self,
        *,
        release: ReleaseConfig,
        function: Mapping[str, object] | None = None,
        primary: Mapping[str, object] | None = None,
    ) -> dict[str, RouteGroupConfig]:
        """Every group of ``ROUTE_GROUPS``, sized by ``ROUTE_GROUP_SIZES``, each released by ``release``;
        ``function``: settings of every group's function; ``primary``: more settings of the first group
        (autoscaling, the release hook)."""
        app, environment = self.app, self.environment
        groups = {}
        for index, (name, settings) in enumerate(ROUTE_GROUPS.items()):
            first = index == 0
            extra = dict(primary or {}) if first else {}
            groups[name] = RouteGroupConfig(
                # The first group keeps the service name and namespace the stack had before route groups.
                function=FunctionConfig(
                    name=f"{self.prefix}-{name}",
                    service_name=app if first else f"{app}-{name}",
                    metrics_namespace=f"{app}/{environment}" if first else f"{app}/{environment}/{name}",
                    handler=f"{name}.handler.lambda_handler",
                    **{
                        **settings.get("function", {}),
                        **(function or {}),
                        **ROUTE_GROUP_SIZES.get(environment, {}).get(name, {}),
                    },
                ),
                release=extra.pop("release", release),
                emf_metrics=settings.get("emf_metrics", ()),
                smoke_checks=settings.get("smoke_checks", ()),
                **extra,
            )
        return groups


def _local(context: _Context) -> EnvironmentConfig:
    environ, prefix, environment = context.environ, context.prefix, context.environment
    common = context.common()
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
                name=f"{prefix}-logs", object_level_denies=False, enable_lifecycle_rules=False, **DISPOSABLE
            )
        ),
        # Short buffers so a local request reaches the archive quickly.
        log_shipping=LogShippingConfig(name_prefix=prefix, buffering_interval_in_seconds=60, log_retention_in_days=7),
        # The emulator does not return the logging settings, so without this every plan would re-add them;
        # and it never invokes asynchronously, so no dead-letter queue (see FunctionConfig).
        # No CodeDeploy: the emulator creates CodeDeploy applications and deployment groups but can neither
        # update nor delete them (a stack holding them never destroys), and never runs a deployment. Each
        # apply moves the alias instead; dev and prod release through CodeDeploy.
        route_groups=context.route_groups(
            release=ReleaseConfig(strategy="direct"),
            function={"ignore_changes": ("logging_config",), "enable_dead_letter_queue": False},
        ),
        keeps_data=False,
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
                **DISPOSABLE,
            ),
            # The emulator creates named queries but cannot delete them (no DeleteNamedQuery): a stack holding
            # them never destroys. `make query` reads the same queries from the stack's saved_queries output.
            save_named_queries=False,
        ),
    )


def _dev(context: _Context) -> EnvironmentConfig:
    environ, prefix, environment = context.environ, context.prefix, context.environment
    return EnvironmentConfig(
        **context.common(),
        encryption_key=EncryptionKeyConfig(
            alias=prefix,
            deletion_window_in_days=7,
            prevent_destroy=False,
            administrator_role=apply_role_path(prefix),
        ),
        log_archive=LogArchiveConfig(bucket=SecureBucketConfig(name=f"{prefix}-logs", **DISPOSABLE)),
        log_shipping=LogShippingConfig(name_prefix=prefix, buffering_interval_in_seconds=60, log_retention_in_days=14),
        # A short linear release: the same CodeDeploy path as prod, done in 3 minutes.
        route_groups=context.route_groups(release=ReleaseConfig(strategy="linear", percent=25, interval_minutes=1)),
        keeps_data=False,
        api=ApiConfig(
            name=prefix,
            throttle_rate_limit=50,
            throttle_burst_limit=100,
            usage_plan_rate_limit=20,
            usage_plan_burst_limit=40,
            usage_plan_quota_per_day=500_000,
        ),
        # Threat protection bills every active user on the Plus tier: prod has it, dev does without.
        identity=IdentityConfig(name=prefix, threat_protection="OFF", deletion_protection=False),
        waf=None,
        # One-minute release gates: each step of its one-minute linear release is judged before the next.
        monitoring=_monitoring(
            environ, environment, prefix, api_4xx_rate_percent=25.0, release_gate_evaluation_periods=1
        ),
        log_query=LogQueryConfig(
            name_prefix=prefix,
            results_bucket=SecureBucketConfig(name=f"{prefix}-query-results", expiration_days=7, **DISPOSABLE),
        ),
    )


def _prod(context: _Context) -> EnvironmentConfig:
    environ, prefix, environment = context.environ, context.prefix, context.environment
    return EnvironmentConfig(
        **context.common(),
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
        # 10 % of traffic for 5 minutes, then the rest; the first group's smoke test runs before any of it.
        route_groups=context.route_groups(
            release=ReleaseConfig(strategy="canary", percent=10, interval_minutes=5),
            primary={
                "release": ReleaseConfig(strategy="canary", percent=10, interval_minutes=5, pre_traffic_hook=True),
                "release_hook_name": f"{prefix}-release-hook",
                "autoscaling": AutoscalingConfig(
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
            },
        ),
        api=ApiConfig(
            name=prefix,
            throttle_rate_limit=1000,
            throttle_burst_limit=2000,
            usage_plan_rate_limit=500,
            usage_plan_burst_limit=1000,
            usage_plan_quota_per_day=50_000_000,
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
    )


# One builder per environment; nothing else picks an environment's settings.
BUILDERS: dict[str, Callable[[_Context], EnvironmentConfig]] = {"local": _local, "dev": _dev, "prod": _prod}
ENVIRONMENT_NAMES = tuple(BUILDERS)
