"""The AWS provider, locked to us-east-1, with the project's default tags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from modules.validation import Checks, ConfigError, message

REGION = "us-east-1"
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

# Every service the stacks call, so nothing silently reaches real AWS from the local environment.
EMULATED_SERVICES = (
    "acm",
    "apigateway",
    "applicationautoscaling",
    "athena",
    "cloudwatch",
    "codedeploy",
    "cognitoidp",
    "firehose",
    "iam",
    "kms",
    "lambda",
    "glue",
    "logs",
    "route53",
    "s3",
    "sns",
    "sqs",
    "sts",
    "wafv2",
)


def check_region(checks: Checks, field: str, region: str) -> bool:
    """Record an error unless ``region`` is the one region this project deploys to."""
    return checks.that(region == REGION, field, region, f"only {REGION!r}: this project is locked to one region")


def check_region_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a region chosen through the AWS SDK's environment variables instead of ignoring it."""
    environ = os.environ if environ is None else environ
    problems = [
        f"environment variable {message(name, environ[name], f'only {REGION!r}')} (this project is locked to one "
        f"region; unset it or set it to {REGION})"
        for name in REGION_ENV_VARS
        if environ.get(name) and environ[name] != REGION
    ]
    if problems:
        raise ConfigError(problems)


@dataclass(frozen=True)
class EmulatorConfig:
    """Where the local AWS emulator listens; only the ``local`` environment has one."""

    endpoint: str
    """URL of the emulator, on loopback with a port, e.g. ``http://127.0.0.1:4599``."""
    access_key: str = "test"
    """Fake access key the emulator accepts (default ``test``)."""
    secret_key: str = "test"
    """Fake secret key the emulator accepts (default ``test``)."""

    def __post_init__(self) -> None:
        checks = Checks("emulator")
        checks.pattern(
            "endpoint",
            self.endpoint,
            r"http://(127\.\d+\.\d+\.\d+|localhost):\d{2,5}",
            "an http:// URL on loopback with a port, e.g. 'http://127.0.0.1:4599'",
        )
        checks.done()


@dataclass(frozen=True)
class ProviderConfig:
    """Provider settings; the region is fixed."""

    default_tags: Mapping[str, str]
    """Tags AWS puts on every taggable resource of the stack."""
    region: str = REGION
    """Must be ``us-east-1``; anything else is refused."""
    allowed_account_ids: tuple[str, ...] = ()
    """12-digit account ids the provider may touch (default none: any). ``make plan``/``deploy`` of ``dev`` and
    ``prod`` refuse to run without one."""
    emulator: EmulatorConfig | None = None
    """Point every service endpoint at the local emulator (``local`` only)."""
    endpoints_services: tuple[str, ...] = field(default=EMULATED_SERVICES)
    """Services redirected to the emulator, so nothing reaches real AWS from ``local``."""

    def __post_init__(self) -> None:
        checks = Checks()
        check_region(checks, "region", self.region)
        checks.each(
            "allowed_account_ids",
            self.allowed_account_ids,
            lambda f, v: checks.pattern(f, v, r"\d{12}", "a 12-digit AWS account id"),
        )
        checks.done()


class RegionLockedProvider(Construct):
    """Creates the stack's only ``AwsProvider``: us-east-1, default tags, account guard, emulator endpoints."""

    provider: AwsProvider
    """The provider every resource of the stack uses."""

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
