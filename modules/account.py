"""The deploying account and partition, read once per stack and handed to every construct that builds an ARN."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from modules.aws_provider import REGION


class AccountContext(Construct):
    """Where the stack is deployed: account id and partition as Terraform tokens, and ARNs built from them."""

    caller: DataAwsCallerIdentity
    """The credentials' account (read at plan time)."""
    partition_data: DataAwsPartition
    """The partition of the provider's region."""

    def __init__(self, scope: Construct, id: str, *, role_boundary: str | None = None) -> None:
        """``role_boundary``: path and name (``/deploy/<name>``) of the managed policy every IAM role created in
        this stack carries as its permissions boundary (default none)."""
        super().__init__(scope, id)
        self.caller = DataAwsCallerIdentity(self, "caller")
        self.partition_data = DataAwsPartition(self, "partition")
        self._role_boundary = role_boundary

    @property
    def account_id(self) -> str:
        return self.caller.account_id

    @property
    def partition(self) -> str:
        return self.partition_data.partition

    @property
    def role_boundary_arn(self) -> str | None:
        """ARN of the permissions boundary the stack's roles carry (see ``modules/role_boundary.py``), or None."""
        if self._role_boundary is None:
            return None
        return f"arn:{self.partition}:iam::{self.account_id}:policy{self._role_boundary}"

    @property
    def root_arn(self) -> str:
        """The account principal, ``arn:<partition>:iam::<account>:root``."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def arn(self, service: str, resource: str, *, region: str = REGION) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` (pass ``region=""`` for global services)."""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"
