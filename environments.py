"""Every environment's settings, in one place: the differences between local, dev and prod are visible here.

Values a deployment must supply without editing code come from environment variables, all documented
in the README: ``TF_STATE_BUCKET``, ``TF_STATE_KEY_PREFIX``, ``TF_STATE_REGION``, ``AWS_ACCOUNT_ID_DEV``,
``AWS_ACCOUNT_ID_PROD``, ``EMULATOR_PORT``, ``BOOTSTRAP_ENV`` and ``BOOTSTRAP_STATE_DIR``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from modules.aws_provider import REGION, EmulatorConfig, ProviderConfig, check_region
from modules.remote_state import RemoteStateConfig
from modules.validation import check_choice, check_pattern, check_type, fail
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


def load(environ: os._Environ | dict | None = None) -> dict[str, EnvironmentConfig]:
    """Build every environment's config; raises ``ValueError`` naming the field on any invalid value."""
    environ = os.environ if environ is None else environ
    state = _state(environ)
    port = environ.get("EMULATOR_PORT", str(DEFAULT_EMULATOR_PORT))
    state_dir = environ.get("BOOTSTRAP_STATE_DIR", str(PROJECT_DIR / ".state"))
    common = {"owner": "platform-team", "cost_center": "cc-0000", "state": state, "bootstrap_state_dir": state_dir}
    return {
        "local": EnvironmentConfig(environment="local", emulator=EmulatorConfig(endpoint=f"http://127.0.0.1:{port}"),
                                   s3_object_level_denies=False, **common),
        "dev": EnvironmentConfig(environment="dev", allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_DEV")),
                                 **common),
        "prod": EnvironmentConfig(environment="prod",
                                  allowed_account_ids=_accounts(environ.get("AWS_ACCOUNT_ID_PROD")), **common),
    }


def bootstrap_environment(environ: os._Environ | dict | None = None) -> str:
    """Which environment's account the bootstrap stack targets (``BOOTSTRAP_ENV``, default the emulator)."""
    environ = os.environ if environ is None else environ
    name = environ.get("BOOTSTRAP_ENV", "local")
    check_choice("BOOTSTRAP_ENV", name, ENVIRONMENT_NAMES)
    return name
