"""The S3 remote-state backend: encrypted, one key per stack, locked with Terraform's native S3 lockfile."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformStack

from modules.aws_provider import REGION, EmulatorConfig, check_region
from modules.validation import BUCKET_NAME, BUCKET_NAME_HELP, check_pattern


@dataclass(frozen=True)
class RemoteStateConfig:
    """Where state lives: ``bucket`` (made by the bootstrap stack), ``region`` (us-east-1 only),
    ``key_prefix`` (default empty: keys are ``<stack>/terraform.tfstate``) and ``kms_key_alias``,
    the bootstrap key that encrypts every state object.
    """

    bucket: str
    kms_key_alias: str
    region: str = REGION
    key_prefix: str = ""

    def __post_init__(self) -> None:
        check_pattern("state.bucket", self.bucket, BUCKET_NAME, BUCKET_NAME_HELP)
        check_region("state.region", self.region)
        check_pattern("state.key_prefix", self.key_prefix, r"([A-Za-z0-9_.-]+/)*",
                      "empty or folder names of A-Z, a-z, 0-9, '_', '.', '-' each ending in '/'")
        check_pattern("state.kms_key_alias", self.kms_key_alias, r"alias/[A-Za-z0-9/_-]{1,250}", "'alias/<name>'")

    def key_for(self, stack_name: str) -> str:
        return f"{self.key_prefix}{stack_name}/terraform.tfstate"


def configure_remote_state(stack: TerraformStack, *, config: RemoteStateConfig,
                           emulator: EmulatorConfig | None) -> S3Backend:
    """Point ``stack`` at its own state object; against the emulator, the same backend with local endpoints."""
    emulator_settings = {}
    if emulator:
        emulator_settings = {
            "endpoints": S3BackendEndpointConfig(s3=emulator.endpoint, sts=emulator.endpoint),
            "access_key": emulator.access_key,
            "secret_key": emulator.secret_key,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
        }
    backend = S3Backend(
        stack,
        bucket=config.bucket,
        key=config.key_for(stack.node.id),
        region=config.region,
        encrypt=True,
        kms_key_id=config.kms_key_alias,
        **emulator_settings,
    )
    # cdktf 0.21's S3Backend predates Terraform 1.10's native S3 locking (conditional writes of a
    # .tflock object), so it has no `use_lockfile` argument; no DynamoDB table is needed with it.
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    if emulator:
        # Path-style addressing: the emulator has no per-bucket DNS names. cdktf 0.21 only knows the
        # deprecated `force_path_style` spelling.
        stack.add_override("terraform.backend.s3.use_path_style", True)
    return backend
