"""Requests of the prod stack's own services: the archive's writers, the function's runtime, the API's integration
and the alarms' topic."""

from __future__ import annotations

from conftest import ACCOUNT, Request
from requests_context import LOGS, TLS, Names


def services(prod, bootstrap, n: Names) -> list[Request]:
    """What the stack's own services ask: Firehose, CloudWatch Logs and its subscription, Lambda, API Gateway, SNS
    and S3's access logging, each with the context AWS sends."""
    requests = [
        # Firehose writes the archive: S3 asks KMS for the bucket key (bucket ARN as context), then the object.
        *[
            Request(
                f"firehose {action} through S3 with the bucket key",
                n.firehose_arn,
                action,
                n.key_arn,
                n.bucket_key_context,
                "Allowed",
                n.firehose_identity,
                n.key_policy,
            )
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ],
        Request(
            "firehose puts an encrypted object",
            n.firehose_arn,
            "s3:PutObject",
            n.object_key,
            {**TLS, **n.sse},
            "Allowed",
            n.firehose_identity,
            n.archive_policy,
        ),
        Request(
            "firehose assumes its role with the account as external id",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            n.firehose_arn,
            {"sts:ExternalId": ACCOUNT},
            "Allowed",
            resource_policy=prod.trust(n.firehose),
        ),
        Request(
            "firehose logs a delivery error",
            n.firehose_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/kinesisfirehose/serverless-app-prod") + ":log-stream:lambda-api",
            {},
            "Allowed",
            n.firehose_identity,
        ),
        # CloudWatch Logs ships every group: assume the subscription role, put into the stream.
        Request(
            "CloudWatch Logs assumes the subscription role",
            LOGS,
            "sts:AssumeRole",
            prod.role_arn(n.subscription),
            {"aws:SourceArn": prod.log_group_arn("/aws/lambda/serverless-app-prod-api"), "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=prod.trust(n.subscription),
        ),
        *[
            Request(
                f"the subscription role puts into {stream.rsplit('/', 1)[1]}",
                prod.role_arn(n.subscription),
                "firehose:PutRecordBatch",
                stream,
                {},
                "Allowed",
                prod.identity(n.subscription),
            )
            for stream in prod.streams()
        ],
        # Lambda: its environment, its dead letters, its logs, its traces.
        Request(
            "Lambda assumes the execution role",
            "lambda.amazonaws.com",
            "sts:AssumeRole",
            n.executor_arn,
            {},
            "Allowed",
            resource_policy=prod.trust(n.executor),
        ),
        Request(
            "the function decrypts its environment",
            n.executor_arn,
            "kms:Decrypt",
            n.key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": n.function_arn,
            },
            "Allowed",
            n.executor_identity,
            n.key_policy,
        ),
        Request(
            "the function sends a dead letter",
            n.executor_arn,
            "sqs:SendMessage",
            f"arn:aws:sqs:us-east-1:{ACCOUNT}:serverless-app-prod-api-dead-letters",
            {},
            "Allowed",
            n.executor_identity,
        ),
        Request(
            "SQS encrypts the dead letter for the function",
            n.executor_arn,
            "kms:GenerateDataKey",
            n.key_arn,
            {
                "kms:ViaService": "sqs.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:sqs:arn": n.dead_letters,
            },
            "Allowed",
            n.executor_identity,
            n.key_policy,
        ),
        Request(
            "the function's role encrypts for another queue",
            n.executor_arn,
            "kms:GenerateDataKey",
            n.key_arn,
            {
                "kms:ViaService": "sqs.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:sqs:arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:someone-elses-queue",
            },
            "Denied",
            n.executor_identity,
            n.key_policy,
        ),
        # A second route group's function: its own environment and log group, nobody else's.
        Request(
            "the admin group's function decrypts its environment",
            n.admin_arn,
            "kms:Decrypt",
            n.key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": n.admin_function_arn,
            },
            "Allowed",
            n.admin_identity,
            n.key_policy,
        ),
        Request(
            "the admin group's function decrypts the api group's environment",
            n.admin_arn,
            "kms:Decrypt",
            n.key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": n.function_arn,
            },
            "Denied",
            n.admin_identity,
            n.key_policy,
        ),
        Request(
            "the admin group's function writes its log group",
            n.admin_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-admin") + ":log-stream:2026/11/24/[3]abc",
            {},
            "Allowed",
            n.admin_identity,
        ),
        Request(
            "the admin group's function writes the api group's log group",
            n.admin_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-api") + ":log-stream:2026/11/24/[3]abc",
            {},
            "Denied",
            n.admin_identity,
        ),
        Request(
            "the function writes its log group",
            n.executor_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-api") + ":log-stream:2026/11/24/[7]abc",
            {},
            "Allowed",
            n.executor_identity,
        ),
        Request(
            "the function sends traces",
            n.executor_arn,
            "xray:PutTraceSegments",
            "*",
            {},
            "Allowed",
            n.executor_identity,
        ),
        # API Gateway invokes the live alias, and logs through the account's role (bootstrap stack).
        Request(
            "API Gateway invokes the live alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            n.alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{n.api_id}/v1/POST/events",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=n.permission,
        ),
        Request(
            "API Gateway invokes the admin route group's live alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            n.admin_alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{n.api_id}/v1/GET/admin/deployment",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=n.admin_permission,
        ),
        Request(
            "API Gateway assumes the account's logging role",
            "apigateway.amazonaws.com",
            "sts:AssumeRole",
            bootstrap.role_arn("serverless-app-apigateway-cloudwatch"),
            {},
            "Allowed",
            resource_policy=bootstrap.trust("serverless-app-apigateway-cloudwatch"),
        ),
        Request(
            "the logging role writes the access log",
            bootstrap.role_arn("serverless-app-apigateway-cloudwatch"),
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/apigateway/serverless-app-prod/access") + ":log-stream:x",
            {},
            "Allowed",
            bootstrap.identity("serverless-app-apigateway-cloudwatch"),
        ),
        # WAF delivers its logs through CloudWatch Logs' delivery service.
        Request(
            "WAF log delivery writes its group",
            "delivery.logs.amazonaws.com",
            "logs:PutLogEvents",
            prod.log_group_arn("aws-waf-logs-serverless-app-prod") + ":log-stream:x",
            {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:*"},
            "Allowed",
            resource_policy=prod.log_resource_policy(),
        ),
        # Alarms publish to the encrypted topic.
        Request(
            "an alarm publishes to the topic",
            "cloudwatch.amazonaws.com",
            "sns:Publish",
            n.topic_arn,
            {
                "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:serverless-app-prod-lambda-error-rate",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=n.topic_policy,
        ),
        *[
            Request(
                f"SNS uses the key for CloudWatch ({action})",
                "cloudwatch.amazonaws.com",
                action,
                n.key_arn,
                {},
                "Allowed",
                resource_policy=n.key_policy,
            )
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ],
        # S3 delivers the archive's server access logs.
        Request(
            "S3 delivers the archive's access logs",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            f"{n.access_logs_arn}/serverless-app-prod-logs/2026-11-24-13-00-00-ABC",
            {**TLS, "aws:SourceArn": n.archive_arn, "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=n.access_logs_policy,
        ),
    ]
    # CloudWatch Logs encrypts each of the stack's groups (the encryption context is the group's ARN).
    requests += [
        Request(
            f"CloudWatch Logs encrypts {group}",
            LOGS,
            "kms:GenerateDataKey",
            n.key_arn,
            {"kms:EncryptionContext:aws:logs:arn": prod.log_group_arn(group), "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=n.key_policy,
        )
        for group in prod.log_group_names()
    ]
    return requests
