"""The S3 remote-state backend: encrypted, one key per stack, locked with Terraform's native S3 lockfile."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import S3Backend, S3BackendEndpointConfig, TerraformStack

from modules.aws_provider import REGION, EmulatorConfig, check_region
from modules.validation import BUCKET_NAME, BUCKET_NAME_HELP, Checks, fail

KMS_KEY_ARN = rf"arn:aws[a-z-]*:kms:{REGION}:\d{{12}}:key/(mrk-)?[0-9a-f]{{8}}-?[0-9a-f-]{{27,}}"


@dataclass(frozen=True)
class RemoteStateConfig:
    """Where every stack keeps its Terraform state (the bootstrap stack creates the bucket and key)."""

    bucket: str
    """Name of the state bucket."""
    kms_key_alias: str
    """``alias/<name>`` of the bootstrap key that encrypts every state object (the bootstrap stack creates it)."""
    kms_key_arn: str | None = None
    """ARN of that key (the bootstrap output ``state_kms_key_arn``). The state bucket's policy refuses uploads
    whose key id is not this ARN, and Terraform's S3 backend sends ``kms_key_id`` as the key id of every state and
    lock object, so a real account's backend needs the ARN and is refused without it; only the emulator (default
    None) uses the alias."""
    region: str = REGION
    """Region of the state bucket; only ``us-east-1``."""
    key_prefix: str = ""
    """Folder prefix of every state key (default empty: keys are ``<stack>/terraform.tfstate``)."""

    def __post_init__(self) -> None:
        checks = Checks("state")
        checks.pattern("bucket", self.bucket, BUCKET_NAME, BUCKET_NAME_HELP)
        check_region(checks, "region", self.region)
        checks.pattern(
            "key_prefix",
            self.key_prefix,
            r"([A-Za-z0-9_.-]+/)*",
            "empty or folder names of A-Z, a-z, 0-9, '_', '.', '-' each ending in '/'",
        )
        checks.pattern("kms_key_alias", self.kms_key_alias, r"alias/[A-Za-z0-9/_-]{1,250}", "'alias/<name>'")
        if self.kms_key_arn is not None:
            checks.pattern(
                "kms_key_arn",
                self.kms_key_arn,
                KMS_KEY_ARN,
                f"a KMS key ARN in {REGION}, e.g. arn:aws:kms:{REGION}:111122223333:key/<key id>",
            )
        checks.done()

    def backend_kms_key_id(self, *, emulated: bool) -> str:
        """What the backend sends as the state objects' key id: the ARN; the alias only on the emulator."""
        if self.kms_key_arn:
            return self.kms_key_arn
        if not emulated:
            raise fail(
                "state.kms_key_arn",
                None,
                "the state key's ARN for a real account's backend (an alias is refused by the state bucket)",
            )
        return self.kms_key_alias

    def key_for(self, stack_name: str) -> str:
        return f"{self.key_prefix}{stack_name}/terraform.tfstate"


def configure_remote_state(
    stack: TerraformStack, *, config: RemoteStateConfig, emulator: EmulatorConfig | None, key: str | None = None
) -> S3Backend:
    """Point ``stack`` at its own state object (``<key prefix><key or stack name>/terraform.tfstate``); against the
    emulator, the same backend with local endpoints."""
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
        key=config.key_for(key or stack.node.id),
        region=config.region,
        encrypt=True,
        kms_key_id=config.backend_kms_key_id(emulated=emulator is not None),
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
