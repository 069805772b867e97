"""What the deploy roles may do: read and lock an environment's state, refresh what its stack defines, and (apply
roles) change it by name prefix, service roles only with the environment's permissions boundary."""

from __future__ import annotations

from modules.account import AccountContext
from modules.aws_provider import REGION


def state_statements(state_object_prefix: str, bucket_arn: str, key_arn: str, *, write: bool) -> list[dict]:
    """Read the environment's state; ``write`` also writes it and takes its lock. Plans take no lock (a plan never
    writes state, and a saved plan is checked against the state's serial when it is applied), so a cancelled pull
    request run cannot leave one behind and a plan role cannot delete another run's."""
    objects = f"{bucket_arn}/{state_object_prefix}*"
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


def read_statements(prefix: str, account: AccountContext) -> list[dict]:
    """Reads that need a resource: the provider's bucket refresh (HeadBucket is authorized as s3:ListBucket) and
    the functions' environments (GetFunction returns them decrypted only to a caller that may decrypt them)."""
    return [
        {"Sid": "ReadDeployedConfiguration", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": "*"},
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


def write_statements(prefix: str, environment: str, account: AccountContext, boundary_arn: str) -> list[dict]:
    """Create, change and delete what the environment's stack defines, by name prefix; service roles only with the
    environment's permissions boundary, and the stack's key through its own key policy (EncryptionKey)."""
    arn = account.arn
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
                "StringEquals": {"aws:RequestTag/Environment": environment},
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
