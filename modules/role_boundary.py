"""The permissions boundary of one environment's service roles: the ceiling that keeps the CI apply role, which
creates and changes those roles, from minting a role more powerful than the stack needs.

The apply role may create, change or tag a role only when it carries this boundary (``iam:PermissionsBoundary``),
and may never remove it. Whatever policy such a role gets, it can do no more than this document allows: the stack's
own logs, streams, buckets, queues, functions and alarms, by name prefix, and the KMS key only through the services
that use it. IAM itself is denied outright, so no service role can change a role, a policy or this boundary.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from constructs import Construct

from modules.account import AccountContext
from modules.aws_provider import REGION
from modules.iam import document

BOUNDARY_PATH = "/deploy/"
# The services that use the stack's key on a role's behalf (kms:ViaService); no role uses the key directly.
KEY_USERS = ("s3", "lambda", "sqs", "firehose", "logs", "athena", "glue")


def boundary_name(name_prefix: str) -> str:
    """The boundary policy's name for the environment whose resources start with ``name_prefix``."""
    return f"{name_prefix}-service-boundary"


def boundary_statements(name_prefix: str, account: AccountContext) -> list[dict]:
    """What any service role of the environment can ever do (its identity policy grants a subset)."""
    arn, partition = account.arn, account.partition
    buckets = f"arn:{partition}:s3:::{name_prefix}-*"
    catalog = name_prefix.replace("-", "_")  # Glue and Athena names take '_', not '-'
    functions = [arn("lambda", f"function:{name_prefix}-*"), arn("lambda", f"function:{name_prefix}-*:*")]
    return [
        {
            "Sid": "OwnLogGroups",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                arn("logs", f"log-group:/aws/lambda/{name_prefix}-*:*"),
                arn("logs", f"log-group:/aws/kinesisfirehose/{name_prefix}*:*"),
            ],
        },
        # X-Ray has no resource-level permissions for these actions.
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
        {
            "Sid": "OwnQueues",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": arn("sqs", f"{name_prefix}-*"),
        },
        {
            "Sid": "OwnDeliveryStreams",
            "Effect": "Allow",
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": arn("firehose", f"deliverystream/{name_prefix}-*"),
        },
        {
            "Sid": "OwnBuckets",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
            "Resource": [buckets, f"{buckets}/*"],
        },
        # The archive reader: queries in the environment's workgroups over its own Glue tables.
        {
            "Sid": "OwnWorkgroups",
            "Effect": "Allow",
            "Action": [
                "athena:BatchGet*",
                "athena:Get*",
                "athena:List*",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            "Resource": arn("athena", f"workgroup/{name_prefix}-*"),
        },
        {"Sid": "ListWorkgroups", "Effect": "Allow", "Action": "athena:ListWorkGroups", "Resource": "*"},
        {
            "Sid": "ReadOwnCatalog",
            "Effect": "Allow",
            "Action": ["glue:BatchGetPartition", "glue:GetDatabase*", "glue:GetPartition*", "glue:GetTable*"],
            "Resource": [
                arn("glue", "catalog"),
                arn("glue", f"database/{catalog}_*"),
                arn("glue", f"table/{catalog}_*/*"),
            ],
        },
        {
            "Sid": "KeyThroughItsServices",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
            "Resource": arn("kms", "key/*"),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": [f"{service}.{REGION}.amazonaws.com" for service in KEY_USERS],
                    "kms:CallerAccount": account.account_id,
                }
            },
        },
        {
            "Sid": "OwnFunctions",
            "Effect": "Allow",
            "Action": [
                "lambda:GetAlias",
                "lambda:GetFunction",
                "lambda:GetProvisionedConcurrencyConfig",
                "lambda:InvokeFunction",
                "lambda:UpdateAlias",
            ],
            "Resource": functions,
        },
        {
            "Sid": "OwnAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": arn("cloudwatch", f"alarm:{name_prefix}-*"),
        },
        {
            "Sid": "OwnReleases",
            "Effect": "Allow",
            "Action": "codedeploy:GetDeployment",
            "Resource": arn("codedeploy", f"deploymentgroup:{name_prefix}*/*"),
        },
        # CodeDeploy documents no resource-level permission for this action.
        {
            "Sid": "ReportReleaseHooks",
            "Effect": "Allow",
            "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
            "Resource": "*",
        },
        {
            "Sid": "NoIdentityChanges",
            "Effect": "Deny",
            "Action": ["iam:*", "sts:AssumeRole", "organizations:*", "account:*"],
            "Resource": "*",
        },
    ]


class ServiceRoleBoundary(Construct):
    """One environment's boundary policy, ``/deploy/<prefix>-service-boundary``, in its account's bootstrap."""

    policy: IamPolicy
    """The managed policy every service role of the environment carries as its permissions boundary."""

    def __init__(self, scope: Construct, id: str, *, name_prefix: str, account: AccountContext) -> None:
        super().__init__(scope, id)
        self.policy = IamPolicy(
            self,
            "policy",
            name=boundary_name(name_prefix),
            path=BOUNDARY_PATH,
            description=f"Ceiling of every service role of {name_prefix} (the CI apply role must attach it)",
            policy=document(boundary_statements(name_prefix, account)),
        )

    @property
    def arn(self) -> str:
        return self.policy.arn


def boundary_policy_path(name_prefix: str) -> str:
    """``/deploy/<prefix>-service-boundary``: what ``AccountContext(role_boundary=...)`` takes in a service stack."""
    return f"{BOUNDARY_PATH}{boundary_name(name_prefix)}"
