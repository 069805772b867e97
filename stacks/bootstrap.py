"""The bootstrap stack: the remote-state bucket and its key, kept in local state."""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from constructs import Construct

from modules.account import AccountContext
from modules.aws_provider import RegionLockedProvider
from modules.encryption_key import EncryptionKey, EncryptionKeyConfig
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from stacks.environments import EnvironmentConfig


class BootstrapStack(TerraformStack):
    """Creates the state bucket for ``config``'s account once; every other stack keeps its state there.

    Its own state stays local (``config.bootstrap_state_dir``): the bucket cannot hold the state of the
    stack that creates it. The bucket and key are ``prevent_destroy`` in every environment.
    """

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, id)
        self.policy_exemptions = config.policy_exemptions
        LocalBackend(self, path=str(Path(config.bootstrap_state_dir) / f"{id}-{config.environment}.tfstate"))
        self.provider = RegionLockedProvider(self, "provider", config=config.provider)
        self.account = AccountContext(self, "account")
        self.key = EncryptionKey(
            self,
            "state_key",
            config=EncryptionKeyConfig(alias=config.state.kms_key_alias.removeprefix("alias/")),
            account=self.account,
        )
        self.state_bucket = SecureBucket(
            self,
            "state_bucket",
            config=SecureBucketConfig(name=config.state.bucket, object_level_denies=config.s3_object_level_denies),
            account=self.account,
            kms_key=self.key.key,
        )
        TerraformOutput(
            self,
            "state_bucket_name",
            value=self.state_bucket.bucket.bucket,
            description="Bucket that holds every stack's Terraform state",
        )
        TerraformOutput(
            self, "state_kms_key_arn", value=self.key.arn, description="KMS key that encrypts the state objects"
        )
