"""The bootstrap stack of one account: the remote-state bucket and key, the account's API Gateway logging role,
each environment's service-role boundary and the CI deploy roles. Its first apply keeps its state locally (the
bucket cannot hold the state of the stack that creates it); once the state key's ARN is set, its state moves into
that bucket (``make bootstrap`` pushes it there)."""

from __future__ import annotations

from pathlib import Path

from cdktf import LocalBackend, TerraformLocal, TerraformOutput, TerraformStack
from constructs import Construct

from modules.account import AccountContext
from modules.api_gateway_account import ApiGatewayAccountLogging
from modules.aws_provider import RegionLockedProvider
from modules.deploy_roles import DeployRoles
from modules.encryption_key import EncryptionKey, EncryptionKeyConfig
from modules.remote_state import configure_remote_state
from modules.role_boundary import ServiceRoleBoundary
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from stacks.bootstrap_config import BootstrapConfig


class BootstrapStack(TerraformStack):
    """Creates, once per account, what every other stack of that account relies on.

    Its state is local (``bootstrap_state_dir``) until ``config.remote_state``; then it is the state bucket's object
    ``<key prefix><stack>-<env>/terraform.tfstate``, and the local file it came from is named in the local value
    ``local_state_before_migration`` for ``make bootstrap`` to push. The bucket and key are ``prevent_destroy`` in
    every environment.
    """

    def __init__(self, scope: Construct, id: str, *, config: BootstrapConfig) -> None:
        super().__init__(scope, id)
        environment = config.environment
        self.policy_exemptions = {
            **environment.policy_exemptions,
            "role-boundary": "the bootstrap's roles are not service roles: the deploy roles and the account's API "
            "Gateway logging role are created by an administrator, with the boundaries themselves",
        }
        local_state = Path(environment.bootstrap_state_dir) / f"{id}-{environment.environment}.tfstate"
        if config.remote_state:
            self.backend = configure_remote_state(
                self, config=environment.state, emulator=None, key=f"{id}-{environment.environment}"
            )
            TerraformLocal(self, "local_state_before_migration", str(local_state))
        else:
            self.backend = LocalBackend(self, path=str(local_state))
        self.provider = RegionLockedProvider(self, "provider", config=environment.provider)
        self.account = AccountContext(self, "account")
        self.key = EncryptionKey(
            self,
            "state_key",
            config=EncryptionKeyConfig(
                alias=environment.state.kms_key_alias.removeprefix("alias/"),
                # As the environment's own key (off only on the emulator, see environments.py).
                enable_key_rotation=environment.encryption_key.enable_key_rotation,
            ),
            account=self.account,
        )
        self.state_bucket = SecureBucket(
            self,
            "state_bucket",
            # The backend needs the name at synth, so it already carries the account id (see environments.py).
            config=SecureBucketConfig(
                name=environment.state.bucket,
                append_account_id=False,
                object_level_denies=environment.s3_object_level_denies,
                # As the environment's own buckets (off only on the emulator, see environments.py).
                enable_lifecycle_rules=environment.log_archive.bucket.enable_lifecycle_rules,
            ),
            account=self.account,
            kms_key=self.key.key,
        )
        self.api_gateway_logging = (
            ApiGatewayAccountLogging(
                self, "api_gateway_account", config=environment.api_gateway_account, key=self.key, account=self.account
            )
            if environment.api_gateway_account
            else None
        )
        self.boundaries = {
            target.environment: ServiceRoleBoundary(
                self, f"{target.environment}_boundary", name_prefix=target.name_prefix, account=self.account
            )
            for target in config.targets
        }
        self.deploy_roles = (
            DeployRoles(
                self,
                "deploy_roles",
                config=config.deploy_roles,
                account=self.account,
                state_bucket_arn=self.state_bucket.bucket.arn,
                state_key_arn=self.key.arn,
                boundary_arns={name: boundary.arn for name, boundary in self.boundaries.items()},
            )
            if config.deploy_roles
            else None
        )
        self._outputs()

    def _outputs(self) -> None:
        TerraformOutput(
            self,
            "state_bucket_name",
            value=self.state_bucket.bucket.bucket,
            description="Bucket that holds every stack's Terraform state (TF_STATE_BUCKET)",
        )
        TerraformOutput(
            self,
            "state_kms_key_arn",
            value=self.key.arn,
            description="KMS key of the state objects: set TF_STATE_KMS_KEY_ARN_<ENV> to it",
        )
        if self.deploy_roles:
            for environment, role in self.deploy_roles.plan_roles.items():
                TerraformOutput(
                    self,
                    f"{environment}_plan_role_arn",
                    value=role.arn,
                    description=f"Role CI assumes to plan {environment} (pull requests and main)",
                )
            for environment, role in self.deploy_roles.apply_roles.items():
                TerraformOutput(
                    self,
                    f"{environment}_apply_role_arn",
                    value=role.arn,
                    description=f"Role CI assumes to apply {environment} (its GitHub environment)",
                )
