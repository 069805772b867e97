"""Keyless CI: GitHub's OIDC identity provider and, per environment, a read-only plan role and an apply role.

A workflow assumes a role with ``aws-actions/configure-aws-credentials`` (``role-to-assume``); the trust policy
accepts only this repository's tokens for ``sts.amazonaws.com``, and only from the refs or GitHub environments
named here. Plan roles read (and take the state lock); apply roles write, scoped to the environment's names.
"""

from __future__ import annotations

import re
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


def apply_role_path(name_prefix: str) -> str:
    """``/deploy/<prefix>-apply``: the apply role as ``EncryptionKeyConfig.administrator_role`` names it."""
    return f"{ROLE_PATH}{name_prefix}-apply"


ARN_OF_GITHUB_PROVIDER = rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_ISSUER)}"


@dataclass(frozen=True)
class DeployRolesConfig:
    """Who may assume the deploy roles: one GitHub repository; plans from main (and, for the environments named in
    ``pull_request_plans``, from pull requests); applies only from the GitHub environment of the same name."""

    github_repository: str
    """``owner/name`` of the only repository whose workflows may assume the roles (no wildcards)."""
    targets: tuple[DeployTarget, ...]
    """The environments deployed into this account (two when dev and prod share it)."""
    pull_request_plans: tuple[str, ...] = ("dev",)
    """Environments whose plan role a pull request may assume (default dev only). A pull request runs code its
    author wrote, with the role's rights: it reads that environment's state. prod is planned from main only, and
    its reviewer approves the plan shown in that run."""
    main_branch: str = "main"
    """The branch whose pushes plan every environment (default ``main``)."""
    existing_oidc_provider_arn: str | None = None
    """ARN of GitHub's OIDC provider when the account already has one (``GITHUB_OIDC_PROVIDER_ARN``; IAM allows
    one provider per URL, so creating a second fails). Default None: the bootstrap creates it."""
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
        checks.each("pull_request_plans", self.pull_request_plans, lambda f, v: checks.choice(f, v, ("dev", "prod")))
        checks.pattern("main_branch", self.main_branch, r"[\w.-]+(/[\w.-]+)*", "a branch name without wildcards")
        if self.existing_oidc_provider_arn is not None:
            checks.pattern(
                "existing_oidc_provider_arn",
                self.existing_oidc_provider_arn,
                ARN_OF_GITHUB_PROVIDER,
                f"the ARN of this account's OIDC provider for {GITHUB_ISSUER}, e.g. "
                f"arn:aws:iam::111122223333:oidc-provider/{GITHUB_ISSUER}",
            )
        checks.int_range("max_session_duration_seconds", self.max_session_duration_seconds, 3600, 43200, "seconds")
        checks.done()

    def plan_subjects(self, environment: str) -> list[str]:
        """``sub`` claims that may assume ``environment``'s plan role."""
        repo = f"repo:{self.github_repository}"
        subjects = [f"{repo}:ref:refs/heads/{self.main_branch}"]
        if environment in self.pull_request_plans:
            subjects.append(f"{repo}:pull_request")
        return subjects


class DeployRoles(Construct):
    """GitHub's OIDC provider and a plan and an apply role per target environment."""

    oidc_provider_arn: str
    """ARN of GitHub's identity provider in this account (created here or already there)."""
    plan_roles: dict[str, IamRole]
    """Read-only roles by environment: assumable from main (and pull requests, see ``pull_request_plans``)."""
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
        boundary_arns: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        if config.existing_oidc_provider_arn is None:
            provider = IamOpenidConnectProvider(
                self, "github", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE]
            )
            self.oidc_provider_arn = provider.arn
        else:
            self.oidc_provider_arn = config.existing_oidc_provider_arn
        self.plan_roles, self.apply_roles = {}, {}
        repo = f"repo:{config.github_repository}"
        for target in config.targets:
            reads = [_READ_STATEMENT, *_read_statements(target, account)]
            self.plan_roles[target.environment] = self._role(
                f"{target.environment}_plan",
                f"{target.name_prefix}-plan",
                config.plan_subjects(target.environment),
                [*_state_statements(target, state_bucket_arn, state_key_arn, write=False), *reads],
                config,
            )
            self.apply_roles[target.environment] = self._role(
                f"{target.environment}_apply",
                f"{target.name_prefix}-apply",
                [f"{repo}:environment:{target.environment}"],
                [
                    *_state_statements(target, state_bucket_arn, state_key_arn, write=True),
                    *reads,
                    *_write_statements(target, account, boundary_arns[target.environment]),
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
    """Read the environment's state; ``write`` also writes it and takes its lock. Plans take no lock (a plan never
    writes state, and a saved plan is checked against the state's serial when it is applied), so a cancelled pull
    request run cannot leave one behind and a plan role cannot delete another run's."""
    objects = f"{bucket_arn}/{target.state_object_prefix}*"
    return [
        # Unconditioned on s3:prefix: S3 answers a GetObject of a missing key with 404 only to a caller that may
        # list the bucket, and that check carries no prefix, so a prefix condition turns a first plan's "no state
        # yet" into a 403. Listing reveals key names (<stack>/terraform.tfstate), never contents.
        {"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": objects},
        *(
            [
                {
                    "Sid": "WriteStateAndLock",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:DeleteObject"],
                    "Resource": objects,
                }
            ]
            if write
            else []
        ),
        # The state bucket has bucket keys on: S3 asks KMS with the bucket ARN as encryption context.
        {
            "Sid": "StateEncryption",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"] if write else "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        },
        # Whatever else a policy in the account may grant (the key's policy delegates to IAM), this role never uses
        # the state key but through S3: no re-policy, retag, grant or direct decrypt.
        {
            "Sid": "StateKeyOnlyThroughS3",
            "Effect": "Deny",
            "Action": "kms:*",
            "Resource": key_arn,
            "Condition": {"StringNotEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
        },
    ]


# Read actions Terraform's refresh calls for the resource types the stacks create. Most of these are list or
# describe calls that AWS does not scope to resources, hence "*" (they return configuration, never data).
READ_ACTIONS = [
    "apigateway:GET",
    "application-autoscaling:Describe*",
    "athena:GetNamedQuery",
    "athena:GetWorkGroup",
    "athena:ListTagsForResource",
    "application-autoscaling:ListTagsForResource",
    "cloudwatch:Describe*",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "codedeploy:Get*",
    "codedeploy:List*",
    "firehose:Describe*",
    "firehose:ListTagsForDeliveryStream",
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTags",
    "iam:GetOpenIDConnectProvider",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
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


def _read_statements(target: DeployTarget, account: AccountContext) -> list[dict]:
    """Reads that need a resource: the provider's bucket refresh (HeadBucket is authorized as s3:ListBucket) and
    the functions' environments (GetFunction returns them decrypted only to a caller that may decrypt them)."""
    prefix = target.name_prefix
    return [
        {
            "Sid": "RefreshStackBuckets",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:{account.partition}:s3:::{prefix}-*",
        },
        {
            "Sid": "ReadFunctionEnvironments",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": account.arn("kms", "key/*"),
            "Condition": {
                "StringEquals": {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"},
                "StringLike": {
                    "kms:EncryptionContext:aws:lambda:FunctionArn": account.arn("lambda", f"function:{prefix}-*")
                },
            },
        },
    ]


# The IAM actions on a service role that can widen what it may do: each only with the environment's boundary.
BOUNDED_ROLE_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
]


def _write_statements(target: DeployTarget, account: AccountContext, boundary_arn: str) -> list[dict]:
    """Create, change and delete what the environment's stack defines, by name prefix; service roles only with the
    environment's permissions boundary, and the stack's key through its own key policy (EncryptionKey)."""
    prefix, arn = target.name_prefix, account.arn
    roles = f"arn:{account.partition}:iam::{account.account_id}:role/{prefix}-*"
    scaling = {
        "StringEquals": {
            "application-autoscaling:service-namespace": "lambda",
            "application-autoscaling:scalable-dimension": "lambda:function:ProvisionedConcurrency",
        }
    }
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
        # WAF's log delivery and the group's resource policy: these actions have no resource type and no condition
        # key (Service Authorization Reference, CloudWatch Logs), so "*" is the only resource that matches.
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
        # A new key is tagged in its CreateKey call, which KMS authorizes as TagResource on no key in particular.
        # Only a key without an Environment tag can be tagged here, so no existing key (the state key included) is
        # retagged; and no permission anywhere depends on a key's tags: the stack's key names this role in its key
        # policy (EncryptionKey.administrator_role).
        {
            "Sid": "CreateKeys",
            "Effect": "Allow",
            "Action": ["kms:CreateKey", "kms:TagResource"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:RequestTag/Environment": target.environment},
                "Null": {"aws:ResourceTag/Environment": "true"},
            },
        },
        {
            "Sid": "OwnAliases",
            "Effect": "Allow",
            "Action": ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
            "Resource": arn("kms", f"alias/{prefix}*"),
        },
        {
            "Sid": "ServiceRolesWithTheBoundary",
            "Effect": "Allow",
            "Action": BOUNDED_ROLE_ACTIONS,
            "Resource": roles,
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}},
        },
        {
            "Sid": "ServiceRoles",
            "Effect": "Allow",
            "Action": [
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRole",
                "iam:UpdateRoleDescription",
                "iam:ListInstanceProfilesForRole",
            ],
            "Resource": roles,
        },
        {
            "Sid": "NeverUnbound",
            "Effect": "Deny",
            "Action": "iam:DeleteRolePermissionsBoundary",
            "Resource": "*",
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
        # Application Auto Scaling creates and deletes a target-tracking policy's alarms with the caller's rights
        # (its PutScalingPolicy needs these). It is not among the services that set aws:CalledVia, so the alarms
        # are scoped by the names it gives them: TargetTracking-<resource id>-AlarmHigh/Low-<uuid>.
        {
            "Sid": "ScalingAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"],
            "Resource": arn("cloudwatch", f"alarm:TargetTracking-function:{prefix}-*"),
        },
        {"Sid": "Topics", "Effect": "Allow", "Action": "sns:*", "Resource": arn("sns", f"{prefix}-*")},
        {"Sid": "Queues", "Effect": "Allow", "Action": "sqs:*", "Resource": arn("sqs", f"{prefix}-*")},
        {
            "Sid": "WebAcl",
            "Effect": "Allow",
            "Action": "wafv2:*",
            "Resource": [arn("wafv2", f"regional/webacl/{prefix}*/*"), arn("wafv2", "regional/managedruleset/*/*")],
        },
        {
            "Sid": "Scaling",
            "Effect": "Allow",
            "Action": [
                "application-autoscaling:DeleteScalingPolicy",
                "application-autoscaling:DeleteScheduledAction",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:PutScheduledAction",
                "application-autoscaling:RegisterScalableTarget",
            ],
            "Resource": arn("application-autoscaling", "scalable-target/*"),
            "Condition": scaling,
        },
        {
            "Sid": "ScalingTags",
            "Effect": "Allow",
            "Action": ["application-autoscaling:TagResource", "application-autoscaling:UntagResource"],
            "Resource": arn("application-autoscaling", "scalable-target/*"),
        },
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
        # The archive's tables: Glue names take '_' where the prefix has '-'.
        {
            "Sid": "LogCatalog",
            "Effect": "Allow",
            "Action": [
                "glue:CreateDatabase",
                "glue:CreateTable",
                "glue:DeleteDatabase",
                "glue:DeleteTable",
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetTags",
                "glue:TagResource",
                "glue:UntagResource",
                "glue:UpdateDatabase",
                "glue:UpdateTable",
            ],
            "Resource": [
                arn("glue", "catalog"),
                arn("glue", f"database/{prefix.replace('-', '_')}_*"),
                arn("glue", f"table/{prefix.replace('-', '_')}_*/*"),
                arn("glue", f"userDefinedFunction/{prefix.replace('-', '_')}_*/*"),
            ],
        },
        {
            "Sid": "QueryWorkgroups",
            "Effect": "Allow",
            "Action": "athena:*",
            "Resource": arn("athena", f"workgroup/{prefix}-*"),
        },
    ]
