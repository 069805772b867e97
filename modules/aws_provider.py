"""The AWS provider, locked to us-east-1, with the project's default tags."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdktf import App, AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from modules.validation import Checks, ConfigError, message

REGION = "us-east-1"
REGION_ENV_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")

# The shared-config profile that sends every AWS service the provider calls to the emulator (``local`` only).
EMULATOR_PROFILE = "emulator"
EMULATOR_PROFILE_FILE = "emulator.aws-config"


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
    """Point every AWS service at the local emulator (``local`` only)."""

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
    """Creates the stack's only ``AwsProvider``: us-east-1, default tags, account guard, the emulator's profile."""

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
            **(self._emulator_settings(emulator) if emulator else {}),
        )

    def _emulator_settings(self, emulator: EmulatorConfig) -> dict:
        # One endpoint for every service, from a shared-config profile shipped beside the stack as an asset, rather
        # than the provider's ``endpoints`` block: a service nobody listed cannot slip out to real AWS, and the
        # provider validates an ``endpoints`` block (hundreds of attributes) for ~2 CPU-seconds in every Terraform
        # walk, which doubled the cost of each plan of this stack (docs/BENCHMARKS.md).
        source = self._profile_source(emulator)
        profile = TerraformAsset(self, "emulator_profile", path=str(source), type=AssetType.FILE)
        return {
            "access_key": emulator.access_key,
            "secret_key": emulator.secret_key,
            "profile": EMULATOR_PROFILE,
            # Both files are the asset, so no profile of the user's own AWS configuration is read.
            "shared_config_files": [profile.path],
            "shared_credentials_files": [profile.path],
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            "skip_region_validation": False,
            "s3_use_path_style": True,
        }

    def _profile_source(self, emulator: EmulatorConfig) -> Path:
        """The profile's text, written where the asset is copied from: the app's own output folder (the asset's
        hash, and so its path in the stack, follows the text)."""
        text = emulator_profile(emulator.endpoint)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        source = Path(App.of(self).outdir) / ".emulator-profile" / digest / EMULATOR_PROFILE_FILE
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text)
        return source


def emulator_profile(endpoint: str) -> str:
    """AWS shared-config text whose profile sends every service to ``endpoint``."""
    return f"[profile {EMULATOR_PROFILE}]\nendpoint_url = {endpoint}\n"
