"""The denials that must hold, across the stack's resource policies and the deploy roles' trust."""

from __future__ import annotations

from conftest import ACCOUNT, REPOSITORY, Request
from requests_context import ANOTHER_KEY, LOGS, OTHER_ACCOUNT, TLS, Names


def denials(prod, bootstrap, n: Names) -> list[Request]:
    """The denials that must hold: plain HTTP, other accounts and keys, other roles, pull requests."""
    # The denials that must hold.
    requests = [
        *[
            Request(
                f"plain HTTP to {name} ({what})",
                n.firehose_arn,
                action,
                target,
                {"aws:SecureTransport": "false"},
                "Denied",
                n.firehose_identity,
                policy,
            )
            for name, arn, policy in (
                ("the archive", n.archive_arn, n.archive_policy),
                ("the state bucket", n.state_arn, n.state_policy),
            )
            for what, action, target in (("bucket", "s3:ListBucket", arn), ("object", "s3:PutObject", f"{arn}/x"))
        ],
        Request(
            "an upload with another key",
            n.firehose_arn,
            "s3:PutObject",
            n.object_key,
            {
                **TLS,
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": ANOTHER_KEY,
            },
            "Denied",
            n.firehose_identity,
            n.archive_policy,
        ),
        Request(
            "an upload with SSE-S3 instead of SSE-KMS",
            n.firehose_arn,
            "s3:PutObject",
            n.object_key,
            {**TLS, "s3:x-amz-server-side-encryption": "AES256"},
            "Denied",
            n.firehose_identity,
            n.archive_policy,
        ),
        Request(
            "the backend sending the key's alias instead of its ARN",
            bootstrap.role_arn(n.apply_role),
            "s3:PutObject",
            n.state_object,
            {
                **TLS,
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "alias/serverless-app-tfstate",
            },
            "Denied",
            bootstrap.identity(n.apply_role),
            n.state_policy,
        ),
        Request(
            "another account reads the archive",
            n.other_role,
            "s3:GetObject",
            n.object_key,
            TLS,
            "Denied",
            [
                {
                    "name": "theirs",
                    "policy": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                    },
                }
            ],
            n.archive_policy,
        ),
        Request(
            "another account uses the key",
            n.other_role,
            "kms:Decrypt",
            n.key_arn,
            {"kms:CallerAccount": OTHER_ACCOUNT},
            "Denied",
            [
                {
                    "name": "theirs",
                    "policy": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
                    },
                }
            ],
            n.key_policy,
        ),
        Request(
            "CloudWatch Logs of another account assumes the subscription role",
            LOGS,
            "sts:AssumeRole",
            prod.role_arn(n.subscription),
            {
                "aws:SourceArn": f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:log-group:x",
                "aws:SourceAccount": OTHER_ACCOUNT,
            },
            "Denied",
            resource_policy=prod.trust(n.subscription),
        ),
        Request(
            "Firehose for another account assumes the role",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            n.firehose_arn,
            {"sts:ExternalId": OTHER_ACCOUNT},
            "Denied",
            resource_policy=prod.trust(n.firehose),
        ),
        Request(
            "another account's alarm publishes to the topic",
            "cloudwatch.amazonaws.com",
            "sns:Publish",
            n.topic_arn,
            {
                "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{OTHER_ACCOUNT}:alarm:x",
                "aws:SourceAccount": OTHER_ACCOUNT,
            },
            "Denied",
            resource_policy=n.topic_policy,
        ),
        Request(
            "another API invokes the alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            n.alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi/v1/POST/events",
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=n.permission,
        ),
        Request(
            "another API invokes the admin alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            n.admin_alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi/v1/GET/admin/deployment",
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=n.admin_permission,
        ),
        Request(
            "S3 delivers another bucket's logs",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            f"{n.access_logs_arn}/x",
            {**TLS, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket", "aws:SourceAccount": OTHER_ACCOUNT},
            "Denied",
            resource_policy=n.access_logs_policy,
        ),
        Request(
            "WAF log delivery for another account",
            "delivery.logs.amazonaws.com",
            "logs:PutLogEvents",
            prod.log_group_arn("aws-waf-logs-serverless-app-prod") + ":log-stream:x",
            {"aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceArn": f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:*"},
            "Denied",
            resource_policy=prod.log_resource_policy(),
        ),
        Request(
            "CloudWatch Logs encrypts a group of another stack",
            LOGS,
            "kms:GenerateDataKey",
            n.key_arn,
            {
                "kms:EncryptionContext:aws:logs:arn": prod.log_group_arn("/aws/lambda/someone-else"),
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=n.key_policy,
        ),
        Request(
            "another repository assumes the plan role",
            n.github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(n.plan_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:evil/fork:pull_request",
            },
            "Denied",
            resource_policy=bootstrap.trust(n.plan_role),
        ),
        Request(
            "a pull request assumes the apply role",
            n.github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(n.apply_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:pull_request",
            },
            "Denied",
            resource_policy=bootstrap.trust(n.apply_role),
        ),
    ]
    return requests
