"""The AWS provider, locked to us-east-1, with the project's default tags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from modules.validation import ConfigError, check_each, check_pattern, fail

REGION = "us-east-1"
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

# Every service the stacks call, so nothing silently reaches real AWS from the local environment.
EMULATED_SERVICES = ("apigateway", "applicationautoscaling", "cloudwatch", "firehose", "iam", "kms", "lambda",
                     "logs", "s3", "sns", "sqs", "sts", "wafv2")


def check_region(field: str, region: str) -> None:
    """Raise unless ``region`` is the one region this project deploys to."""
    if region != REGION:
        raise fail(field, region, f"only {REGION!r}: this project is locked to one region")


def check_region_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a region chosen through the AWS SDK's environment variables instead of ignoring it."""
    environ = os.environ if environ is None else environ
    for name in REGION_ENV_VARS:
        if environ.get(name) and environ[name] != REGION:
            raise ConfigError(f"environment variable {name}={environ[name]!r} is invalid: allowed only {REGION!r} "
                              f"(this project is locked to one region; unset it or set it to {REGION})")


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the local AWS emulator listens. ``endpoint`` must be on loopback; credentials are fake."""

    endpoint: str
    access_key: str = "test"
    secret_key: str = "test"

    def __post_init__(self) -> None:
        check_pattern("emulator.endpoint", self.endpoint, r"http://(127\.\d+\.\d+\.\d+|localhost):\d{2,5}",
                      "an http:// URL on loopback with a port, e.g. 'http://127.0.0.1:4599'")


@dataclass(frozen=True)
class ProviderConfig:
    """Provider settings: ``region`` is fixed; ``allowed_account_ids`` (default none) guards the target account."""

    default_tags: Mapping[str, str]
    region: str = REGION
    allowed_account_ids: tuple[str, ...] = ()
    emulator: EmulatorConfig | None = None
    endpoints_services: tuple[str, ...] = field(default=EMULATED_SERVICES)

    def __post_init__(self) -> None:
        check_region("region", self.region)
        check_each("allowed_account_ids", self.allowed_account_ids,
                   lambda f, v: check_pattern(f, v, r"\d{12}", "a 12-digit AWS account id"))


class RegionLockedProvider(Construct):
    """Creates the stack's only ``AwsProvider``: us-east-1, default tags, account guard, emulator endpoints."""

    def __init__(self, scope: Construct, id: str, *, config: ProviderConfig) -> None:
        super().__init__(scope, id)
        check_region_environment()
        emulator = config.emulator
        self.provider = AwsProvider(
            self,
            "aws",
            region=config.region,
            default_tags=[AwsProviderDefaultTags(tags=dict(config.default_tags))],
            allowed_account_ids=list(config.allowed_account_ids) or None,
            **(_emulator_settings(emulator, config.endpoints_services) if emulator else {}),
        )


def _emulator_settings(emulator: EmulatorConfig, services: tuple[str, ...]) -> dict:
    return {
        "access_key": emulator.access_key,
        "secret_key": emulator.secret_key,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": "true",
        "skip_region_validation": False,
        "s3_use_path_style": True,
        # The binding spells the Lambda endpoint ``lambda_`` (``lambda`` is a Python keyword).
        "endpoints": [AwsProviderEndpoints(**{_keyword_safe(service): emulator.endpoint for service in services})],
    }


def _keyword_safe(name: str) -> str:
    return f"{name}_" if name == "lambda" else name
