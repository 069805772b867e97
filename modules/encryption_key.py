"""A customer-managed KMS key with rotation and an explicit, least-privilege key policy."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.account import AccountContext
from modules.aws_provider import REGION
from modules.iam import document
from modules.validation import Checks


@dataclass(frozen=True)
class EncryptionKeyConfig:
    """The stack's customer-managed key; rotation is always on, the key policy is explicit per service."""

    alias: str
    """Alias name without the ``alias/`` prefix (1-250 of A-Z, a-z, 0-9, '/', '_', '-'; not ``aws/...``)."""
    deletion_window_in_days: int = 30
    """Days a scheduled deletion can still be cancelled (7..30, AWS's range; default 30)."""
    allow_cloudwatch_logs: bool = False
    """Key-policy statement letting CloudWatch Logs encrypt this account's log groups (default off)."""
    allow_firehose: bool = False
    """Key-policy statement for Firehose's S3 delivery with SSE-KMS (default off)."""
    allow_cloudwatch_alarms_to_sns: bool = False
    """Key-policy statement letting CloudWatch alarms publish to topics encrypted with this key (default off)."""
    allow_lambda: bool = False
    """Key-policy statement for Lambda's environment encryption (default off)."""
    prevent_destroy: bool = True
    """Terraform refuses any plan that would delete the key (default on)."""

    def __post_init__(self) -> None:
        checks = Checks("encryption_key")
        checks.pattern(
            "alias",
            self.alias,
            r"(?!aws/)[A-Za-z0-9/_-]{1,250}",
            "1-250 characters of A-Z, a-z, 0-9, '/', '_', '-', not starting with 'aws/'",
        )
        checks.int_range("deletion_window_in_days", self.deletion_window_in_days, 7, 30, "days")
        for name in (
            "allow_cloudwatch_logs",
            "allow_firehose",
            "allow_cloudwatch_alarms_to_sns",
            "allow_lambda",
            "prevent_destroy",
        ):
            checks.type(name, getattr(self, name), bool)
        checks.done()


class EncryptionKey(Construct):
    """The stack's KMS key, with rotation and a key policy that names each service that may use it."""

    key: KmsKey
    """The customer-managed key."""
    alias: KmsAlias
    """``alias/<config.alias>``, pointing at the key."""

    def __init__(self, scope: Construct, id: str, *, config: EncryptionKeyConfig, account: AccountContext) -> None:
        super().__init__(scope, id)
        self._account = account
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts {config.alias} data at rest",
            enable_key_rotation=True,
            deletion_window_in_days=config.deletion_window_in_days,
            policy=document(self._statements(config)),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=config.prevent_destroy),
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{config.alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        """The key's ARN (a token)."""
        return self.key.arn

    def _statements(self, config: EncryptionKeyConfig) -> list[dict]:
        account, partition = self._account.account_id, self._account.partition
        account_arn = self._account.root_arn
        statements = [
            {
                # Without this the key becomes unmanageable; IAM policies then decide who else may use it.
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": account_arn},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if config.allow_cloudwatch_logs:
            statements.append(
                {
                    "Sid": "CloudWatchLogsInThisAccount",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{REGION}:{account}:log-group:*"
                        }
                    },
                }
            )
        if config.allow_firehose:
            # Firehose encrypts what it writes to S3 through S3 (SSE-KMS), on behalf of its role.
            statements.append(
                {
                    "Sid": "S3DeliveryForThisAccount",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_arn},
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "kms:CallerAccount": account},
                    },
                }
            )
        if config.allow_cloudwatch_alarms_to_sns:
            statements.append(
                {
                    "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            )
        if config.allow_lambda:
            statements.append(
                {
                    "Sid": "LambdaEnvironmentEncryption",
                    "Effect": "Allow",
                    "Principal": {"AWS": account_arn},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": f"lambda.{REGION}.amazonaws.com",
                            "kms:CallerAccount": account,
                        },
                    },
                }
            )
        return statements
