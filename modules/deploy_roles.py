"""Keyless CI: GitHub's OIDC identity provider and, per environment, a read-only plan role and an apply role.

A workflow assumes a role with ``aws-actions/configure-aws-credentials`` (``role-to-assume``); the trust policy
accepts only this repository's tokens for ``sts.amazonaws.com``, and only from the refs or GitHub environments
named here. Plan roles read (and take the state lock); apply roles write, scoped to the environment's names.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.account import AccountContext
from modules.aws_provider import REGION
from modules.iam import document
from modules.validation import Checks

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# The deploy roles live under their own IAM path, so the apply role's rights over "role/<prefix>-*" (the stack's
# service roles) can never reach the deploy roles themselves.
ROLE_PATH = "/deploy/"


@dataclass(frozen=True)
class DeployTarget:
    """One environment deployed from CI into this account."""

    environment: str
    """Environment name; the apply role trusts the GitHub environment of the same name."""
    name_prefix: str
    """``<app>-<env>``: every resource of the environment is named with it, and the apply role is scoped to it."""
    state_object_prefix: str
    """``<key prefix><stack>/`` of the environment's state objects in the state bucket."""


@dataclass(frozen=True)
class DeployRolesConfig:
    """Who may assume the deploy roles: one GitHub repository, by ref for plans, by environment for applies."""

    github_repository: str
    """``owner/name`` of the only repository whose workflows may assume the roles (no wildcards)."""
    targets: tuple[DeployTarget, ...]
    """The environments deployed into this account (two when dev and prod share it)."""
    plan_refs: tuple[str, ...] = ("pull_request", "ref:refs/heads/main")
    """``sub`` claims (after ``repo:<owner>/<name>:``) allowed to assume the plan roles: pull requests and main."""
    create_oidc_provider: bool = True
    """Create GitHub's OIDC provider (one per account; default on). Off when the account already has one."""
    max_session_duration_seconds: int = 3600
    """Longest CI session (3600..43200 s; default 3600)."""

    def __post_init__(self) -> None:
        checks = Checks("deploy_roles")
        checks.pattern(
            "github_repository",
            self.github_repository,
            r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}",
            "'owner/name' of one GitHub repository, without wildcards",
        )
        if checks.type("targets", self.targets, tuple):
            checks.that(bool(self.targets), "targets", self.targets, "at least one environment")
        checks.each(
            "plan_refs",
            self.plan_refs,
            lambda f, v: checks.pattern(
                f,
                v,
                r"pull_request|ref:refs/heads/[\w./-]+|environment:[\w.-]+",
                "'pull_request', 'ref:refs/heads/<branch>' or 'environment:<name>'",
            ),
        )
        checks.type("create_oidc_provider", self.create_oidc_provider, bool)
        checks.int_range("max_session_duration_seconds", self.max_session_duration_seconds, 3600, 43200, "seconds")
        checks.done()


class DeployRoles(Construct):
    """GitHub's OIDC provider and a plan and an apply role per target environment."""

    oidc_provider_arn: str
    """ARN of GitHub's identity provider in this account (created here or already there)."""
    plan_roles: dict[str, IamRole]
    """Read-only roles by environment: assumable from pull requests and main."""
    apply_roles: dict[str, IamRole]
    """Write roles by environment: assumable only from the GitHub environment of that name."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployRolesConfig,
        account: AccountContext,
        state_bucket_arn: str,
        state_key_arn: str,
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        if config.create_oidc_provider:
            provider = IamOpenidConnectProvider(
                self, "github", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE]
            )
            self.oidc_provider_arn = provider.arn
        else:
            self.oidc_provider_arn = f"arn:{account.partition}:iam::{account.account_id}:oidc-provider/{GITHUB_ISSUER}"
        self.plan_roles, self.apply_roles = {}, {}
        repo = f"repo:{config.github_repository}"
        for target in config.targets:
            self.plan_roles[target.environment] = self._role(
                f"{target.environment}_plan",
                f"{target.name_prefix}-plan",
                [f"{repo}:{ref}" for ref in config.plan_refs],
                [*_state_statements(target, state_bucket_arn, state_key_arn, write=False), _READ_STATEMENT],
                config,
            )
            self.apply_roles[target.environment] = self._role(
                f"{target.environment}_apply",
                f"{target.name_prefix}-apply",
                [f"{repo}:environment:{target.environment}"],
                [
                    *_state_statements(target, state_bucket_arn, state_key_arn, write=True),
                    _READ_STATEMENT,
                    *_write_statements(target, account),
                ],
                config,
            )

    def _role(
        self, id: str, name: str, subjects: list[str], statements: list[dict], config: DeployRolesConfig
    ) -> IamRole:
        trust = document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": self.oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": subjects}},
                }
            ]
        )
        role = IamRole(
            self,
            id,
            name=name,
            path=ROLE_PATH,
            assume_role_policy=trust,
            max_session_duration=config.max_session_duration_seconds,
        )
        IamRolePolicy(self, f"{id}_policy", role=role.id, name="deploy", policy=document(statements))
        return role


def _state_statements(target: DeployTarget, bucket_arn: str, key_arn: str, *, write: bool) -> list[dict]:
    """Read the environment's state and take its lock (a plan locks too); ``write`` also writes the state."""
    objects = f"{bucket_arn}/{target.state_object_prefix}*"
    return [
        {
            "Sid": "ListState",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{target.state_object_prefix}*"]}},
        },
        {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects},
        {
            "Sid": "WriteState" if write else "TakeTheLock",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": objects if write else f"{objects}.tflock",
        },
        # The state bucket has bucket keys on: S3 asks KMS with the bucket ARN as encryption context.
        {
            "Sid": "StateEncryption",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        },
    ]


# Read actions Terraform's refresh calls for the resource types the stacks create. Most of these are list or
# describe calls that AWS does not scope to resources, hence "*" (they return configuration, never data).
READ_ACTIONS = [
    "apigateway:GET",
    "application-autoscaling:Describe*",
    "cloudwatch:Describe*",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "codedeploy:Get*",
    "codedeploy:List*",
    "firehose:Describe*",
    "firehose:ListTagsForDeliveryStream",
    "iam:GetOpenIDConnectProvider",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetPolicy",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:ListVersionsByFunction",
    "lambda:GetAccountSettings",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:DescribeMetricFilters",
    "logs:DescribeResourcePolicies",
    "logs:DescribeSubscriptionFilters",
    "logs:ListTagsForResource",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucket*",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sqs:GetQueueAttributes",
    "sqs:ListQueueTags",
    "wafv2:GetLoggingConfiguration",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:ListTagsForResource",
    "sts:GetCallerIdentity",
]


_READ_STATEMENT = {"Sid": "ReadDeployedConfiguration", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": "*"}


def _write_statements(target: DeployTarget, account: AccountContext) -> list[dict]:
    """Create, change and delete what the environment's stack defines, by name prefix or by its tags."""
    prefix, arn = target.name_prefix, account.arn
    tagged = {"StringEquals": {"aws:ResourceTag/Environment": target.environment}}
    requested = {"StringEquals": {"aws:RequestTag/Environment": target.environment}}
    roles = f"arn:{account.partition}:iam::{account.account_id}:role/{prefix}-*"
    return [
        {
            "Sid": "Functions",
            "Effect": "Allow",
            "Action": "lambda:*",
            "Resource": [arn("lambda", f"function:{prefix}-*"), arn("lambda", f"function:{prefix}-*:*")],
        },
        {
            "Sid": "LogGroups",
            "Effect": "Allow",
            "Action": "logs:*",
            "Resource": [
                arn("logs", f"log-group:/aws/lambda/{prefix}-*"),
                arn("logs", f"log-group:/aws/apigateway/{prefix}*"),
                arn("logs", f"log-group:/aws/kinesisfirehose/{prefix}*"),
                arn("logs", f"log-group:aws-waf-logs-{prefix}*"),
                arn("logs", "log-group:API-Gateway-Execution-Logs_*"),
            ],
        },
        {
            "Sid": "LogDelivery",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:UpdateLogDelivery",
                "logs:PutResourcePolicy",
                "logs:DeleteResourcePolicy",
            ],
            "Resource": "*",
        },
        {
            "Sid": "DeliveryStreams",
            "Effect": "Allow",
            "Action": "firehose:*",
            "Resource": arn("firehose", f"deliverystream/{prefix}-*"),
        },
        {
            "Sid": "Buckets",
            "Effect": "Allow",
            "Action": [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:PutBucket*",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:PutAccelerateConfiguration",
            ],
            "Resource": [f"arn:{account.partition}:s3:::{prefix}-*", f"arn:{account.partition}:s3:::{prefix}-*/*"],
        },
        # Key ids are random, so keys are matched by the Environment tag every resource carries.
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": requested,
        },
        {
            "Sid": "ManageOwnKeys",
            "Effect": "Allow",
            "Action": [
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:EnableKeyRotation",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:PutKeyPolicy",
                "kms:ScheduleKeyDeletion",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:UpdateKeyDescription",
                "kms:CreateAlias",
                "kms:DeleteAlias",
                "kms:UpdateAlias",
            ],
            "Resource": "*",
            "Condition": tagged,
        },
        {
            "Sid": "OwnAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": arn("kms", f"alias/{prefix}*"),
        },
        {
            "Sid": "ServiceRoles",
            "Effect": "Allow",
            "Action": [
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:PutRolePolicy",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
                "iam:ListInstanceProfilesForRole",
            ],
            "Resource": roles,
        },
        {
            "Sid": "PassServiceRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": roles,
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": [
                        "lambda.amazonaws.com",
                        "firehose.amazonaws.com",
                        "logs.amazonaws.com",
                        "codedeploy.amazonaws.com",
                    ]
                }
            },
        },
        {
            "Sid": "ScalingServiceLinkedRole",
            "Effect": "Allow",
            "Action": "iam:CreateServiceLinkedRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "lambda.application-autoscaling.amazonaws.com"}},
        },
        {
            "Sid": "Api",
            "Effect": "Allow",
            "Action": [
                "apigateway:DELETE",
                "apigateway:PATCH",
                "apigateway:POST",
                "apigateway:PUT",
                "apigateway:SetWebACL",
            ],
            "Resource": [
                f"arn:{account.partition}:apigateway:{REGION}::/restapis*",
                f"arn:{account.partition}:apigateway:{REGION}::/usageplans*",
                f"arn:{account.partition}:apigateway:{REGION}::/apikeys*",
                f"arn:{account.partition}:apigateway:{REGION}::/tags*",
            ],
        },
        {
            "Sid": "Alarms",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:DeleteDashboards",
                "cloudwatch:PutDashboard",
            ],
            "Resource": [
                arn("cloudwatch", f"alarm:{prefix}-*"),
                f"arn:{account.partition}:cloudwatch::{account.account_id}:dashboard/{prefix}*",
            ],
        },
        {"Sid": "Topics", "Effect": "Allow", "Action": "sns:*", "Resource": arn("sns", f"{prefix}-*")},
        {"Sid": "Queues", "Effect": "Allow", "Action": "sqs:*", "Resource": arn("sqs", f"{prefix}-*")},
        {
            "Sid": "WebAcl",
            "Effect": "Allow",
            "Action": "wafv2:*",
            "Resource": [arn("wafv2", f"regional/webacl/{prefix}*/*"), arn("wafv2", "regional/managedruleset/*/*")],
        },
        {"Sid": "Scaling", "Effect": "Allow", "Action": "application-autoscaling:*", "Resource": "*"},
        {
            "Sid": "Releases",
            "Effect": "Allow",
            "Action": "codedeploy:*",
            "Resource": [
                arn("codedeploy", f"application:{prefix}*"),
                arn("codedeploy", f"deploymentgroup:{prefix}*/*"),
                arn("codedeploy", "deploymentconfig:*"),
            ],
        },
    ]
