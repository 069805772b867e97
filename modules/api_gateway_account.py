"""API Gateway's account-wide CloudWatch role: one setting per account and region, so exactly one stack owns it."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.account import AccountContext
from modules.encryption_key import EncryptionKey
from modules.iam import trust
from modules.validation import LOG_RETENTION_DAYS, Checks

# API Gateway writes a test line here when the account's CloudWatch role is set, creating the group if it is
# missing (unencrypted, kept forever). Creating it first keeps it encrypted and retained.
WELCOME_LOG_GROUP = "/aws/apigateway/welcome"


@dataclass(frozen=True)
class ApiGatewayAccountConfig:
    """The account's API Gateway logging role."""

    role_name: str
    """Name of the role API Gateway assumes to write execution and access logs (1-64 IAM role characters)."""
    welcome_log_retention_in_days: int = 30
    """Retention of the ``/aws/apigateway/welcome`` group (a CloudWatch-allowed value; default 30)."""

    def __post_init__(self) -> None:
        checks = Checks("api_gateway_account")
        checks.pattern("role_name", self.role_name, r"[\w+=,.@-]{1,64}", "1-64 of letters, digits and +=,.@_-")
        checks.choice("welcome_log_retention_in_days", self.welcome_log_retention_in_days, LOG_RETENTION_DAYS)
        checks.done()


class ApiGatewayAccountLogging(Construct):
    """Sets the account's API Gateway CloudWatch role, after creating the group API Gateway would create itself."""

    role: IamRole
    """The role, with AWS's ``AmazonAPIGatewayPushToCloudWatchLogs`` managed policy."""
    account_setting: ApiGatewayAccount
    """The account setting (reset to no role when destroyed)."""
    welcome_log_group: CloudwatchLogGroup
    """``/aws/apigateway/welcome``, encrypted with ``key`` and retained."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ApiGatewayAccountConfig,
        key: EncryptionKey,
        account: AccountContext,
    ) -> None:
        super().__init__(scope, id)
        key.grant_log_group(WELCOME_LOG_GROUP)
        self.welcome_log_group = CloudwatchLogGroup(
            self,
            "welcome",
            name=WELCOME_LOG_GROUP,
            retention_in_days=config.welcome_log_retention_in_days,
            kms_key_id=key.arn,
        )
        # API Gateway's documented trust for this role has no condition; only this account can set it (the
        # setting needs iam:PassRole here).
        self.role = IamRole(self, "role", name=config.role_name, assume_role_policy=trust("apigateway.amazonaws.com"))
        attachment = IamRolePolicyAttachment(
            self,
            "push_to_cloudwatch",
            role=self.role.name,
            policy_arn=f"arn:{account.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
        self.account_setting = ApiGatewayAccount(
            self,
            "setting",
            cloudwatch_role_arn=self.role.arn,
            # With provider 5.x a destroy otherwise leaves the account pointing at the deleted role.
            reset_on_delete=True,
            depends_on=[attachment, self.welcome_log_group],
        )
