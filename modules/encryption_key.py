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
from modules.validation import Checks, fail


@dataclass(frozen=True)
class EncryptionKeyConfig:
    """The stack's customer-managed key; its key policy names each principal that may use it (added by the
    constructs that use it, through the ``grant_*`` methods)."""

    alias: str
    """Alias name without the ``alias/`` prefix (1-250 of A-Z, a-z, 0-9, '/', '_', '-'; not ``aws/...``)."""
    deletion_window_in_days: int = 30
    """Days a scheduled deletion can still be cancelled (7..30, AWS's range; default 30)."""
    prevent_destroy: bool = True
    """Terraform refuses any plan that would delete the key (default on)."""
    enable_key_rotation: bool = True
    """Rotate the key material every year (default on; only the emulator environment turns it off, see
    ``stacks/environments.py``; the synth policy and checkov refuse it anywhere else)."""
    administrator_role: str | None = None
    """Path and name (``/deploy/<name>``) of the CI role that administers this key through its key policy, matched
    by ``aws:PrincipalArn`` so the role need not exist when the key is created (default none). The role gets no
    key-management rights from IAM tags, which any principal allowed to tag could forge on another key."""

    def __post_init__(self) -> None:
        checks = Checks("encryption_key")
        checks.pattern(
            "alias",
            self.alias,
            r"(?!aws/)[A-Za-z0-9/_-]{1,250}",
            "1-250 characters of A-Z, a-z, 0-9, '/', '_', '-', not starting with 'aws/'",
        )
        checks.int_range("deletion_window_in_days", self.deletion_window_in_days, 7, 30, "days")
        checks.type("prevent_destroy", self.prevent_destroy, bool)
        checks.type("enable_key_rotation", self.enable_key_rotation, bool)
        if self.administrator_role is not None:
            checks.pattern(
                "administrator_role",
                self.administrator_role,
                r"/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}",
                "'/<path>/<role name>' of an IAM role, e.g. '/deploy/serverless-app-prod-apply'",
            )
        checks.done()


# What the CI role does to its stack's key: create, describe, tag, rotate, re-policy, alias and schedule deletion.
KEY_ADMINISTRATION = [
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
# The services that use the key with the caller's rights while the CI role creates or updates a resource.
KEY_CALLERS = ("firehose", "lambda", "sqs", "sns", "logs")


class EncryptionKey(Construct):
    """The stack's KMS key, with rotation and a key policy that names every principal that may use it.

    The first statement lets the account administer the key (without it the key becomes unmanageable) and lets
    IAM policies of this account grant its use, e.g. to the deploy roles. Every other statement is added by a
    construct that needs the key, naming its role or service principal and the condition AWS sends.
    """

    key: KmsKey
    """The customer-managed key; its policy is re-rendered whenever a grant is added."""
    alias: KmsAlias
    """``alias/<config.alias>``, pointing at the key."""

    def __init__(self, scope: Construct, id: str, *, config: EncryptionKeyConfig, account: AccountContext) -> None:
        super().__init__(scope, id)
        self._account = account
        self._statements: list[dict] = [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": account.root_arn},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if config.administrator_role:
            # KMS requires the key's creator to keep PutKeyPolicy (its lockout check): for the CI role that is this
            # statement. Principal "*" with aws:PrincipalArn names the role without KMS resolving it at creation.
            admin = {
                "ArnEquals": {
                    "aws:PrincipalArn": f"arn:{account.partition}:iam::{account.account_id}:role"
                    f"{config.administrator_role}"
                },
                "StringEquals": {"kms:CallerAccount": account.account_id},
            }
            self._statements += [
                {
                    "Sid": "CiRoleAdministersThisKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": KEY_ADMINISTRATION,
                    "Resource": "*",
                    "Condition": admin,
                },
                # Firehose (server-side encryption of a stream) and Lambda (its environment) use the key with the
                # caller's rights when the CI role creates them; a grant only for such an AWS resource.
                {
                    "Sid": "CiRoleLetsServicesUseThisKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        **admin,
                        "StringEquals": {
                            **admin["StringEquals"],
                            "kms:ViaService": [f"{service}.{REGION}.amazonaws.com" for service in KEY_CALLERS],
                        },
                        "BoolIfExists": {"kms:GrantIsForAWSResource": "true"},
                    },
                },
            ]
        self._log_group_arns: list[str] = []
        self.key = KmsKey(
            self,
            "key",
            description=f"Encrypts {config.alias} data at rest",
            enable_key_rotation=config.enable_key_rotation,
            deletion_window_in_days=config.deletion_window_in_days,
            policy=document(self._statements),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=config.prevent_destroy),
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{config.alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        """The key's ARN (a token)."""
        return self.key.arn

    def grant(self, sid: str, *, principal: dict, actions: list[str], condition: dict | None = None) -> None:
        """Add a key-policy statement ``sid`` allowing ``principal`` the ``actions`` (``Resource`` is the key)."""
        if any(statement["Sid"] == sid for statement in self._statements):
            raise fail("key policy statement", sid, "a Sid not granted before")
        statement = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"}
        if condition:
            statement["Condition"] = condition
        self._statements.append(statement)
        self.key.policy = document(self._statements)

    def grant_to_role(
        self, sid: str, role_arn: str, actions: list[str], *, via_service: str, condition: dict | None = None
    ) -> None:
        """Let one role use the key only through ``via_service`` (e.g. ``s3``), and only from this account."""
        equals = {
            "kms:ViaService": f"{via_service}.{REGION}.amazonaws.com",
            "kms:CallerAccount": self._account.account_id,
        }
        merged = {**(condition or {})}
        merged["StringEquals"] = {**equals, **merged.get("StringEquals", {})}
        self.grant(sid, principal={"AWS": role_arn}, actions=actions, condition=merged)

    def grant_log_group(self, name: str) -> None:
        """Let CloudWatch Logs encrypt the group ``name``: the one service statement, listing every group by the
        ``aws:logs:arn`` encryption context CloudWatch Logs sends (the group's ARN)."""
        self._log_group_arns.append(self._account.arn("logs", f"log-group:{name}"))
        statement = {
            "Sid": "CloudWatchLogsEncryptTheseGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(self._log_group_arns)}},
        }
        self._statements = [s for s in self._statements if s["Sid"] != statement["Sid"]] + [statement]
        self.key.policy = document(self._statements)
