"""Every request AWS makes for the prod stack, evaluated against the synthesized policies with an IAM engine.

Each request states the principal AWS uses, the action, the resource ARN and the context keys AWS sends
(``kms:ViaService``, ``kms:EncryptionContext:*``, ``aws:SourceArn``, ``aws:SecureTransport``, ...). The identity
policies and the resource policy (key, bucket, topic, trust, Lambda permission, log resource policy) are the ones
in ``cdk.tf.json``. The emulator evaluates none of this; this suite is what proves it.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import ACCOUNT, REPOSITORY, Request, evaluate, explain

OTHER_ACCOUNT = "999988887777"
ANOTHER_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
LOGS = "logs.us-east-1.amazonaws.com"
S3_VIA = "s3.us-east-1.amazonaws.com"
TLS = {"aws:SecureTransport": "true"}


def _requests(prod, bootstrap) -> list[Request]:
    key_arn, key_policy = prod.key()
    archive = f"serverless-app-prod-logs-{ACCOUNT}"
    archive_arn, archive_policy = prod.bucket(archive)
    access_logs_arn, access_logs_policy = prod.bucket(f"{archive}-access-logs")
    firehose = "serverless-app-prod-firehose"
    firehose_arn, firehose_identity = prod.role_arn(firehose), prod.identity(firehose)
    subscription = "serverless-app-prod-logs-to-firehose"
    executor = "serverless-app-prod-api-exec"
    executor_arn, executor_identity = prod.role_arn(executor), prod.identity(executor)
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:serverless-app-prod-api"
    admin = "serverless-app-prod-admin-exec"
    admin_arn, admin_identity = prod.role_arn(admin), prod.identity(admin)
    admin_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:serverless-app-prod-admin"
    dead_letters = f"arn:aws:sqs:us-east-1:{ACCOUNT}:serverless-app-prod-api-dead-letters"
    topic_arn, topic_policy = prod.topic()
    alias_arn, permission = prod.lambda_permission()
    admin_alias_arn, admin_permission = prod.lambda_permission("serverless-app-prod-admin")
    api_id = prod.resolve.reference(f"aws_api_gateway_rest_api.{next(iter(prod.all('aws_api_gateway_rest_api')))}.id")
    object_key = f"{archive_arn}/logs/lambda/serverless-app-prod-api/2026/11/24/13/object.gz"
    sse = {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
    bucket_key_context = {
        "kms:ViaService": S3_VIA,
        "kms:CallerAccount": ACCOUNT,
        "kms:EncryptionContext:aws:s3:arn": archive_arn,
    }

    requests = [
        # Firehose writes the archive: S3 asks KMS for the bucket key (bucket ARN as context), then the object.
        *[
            Request(
                f"firehose {action} through S3 with the bucket key",
                firehose_arn,
                action,
                key_arn,
                bucket_key_context,
                "Allowed",
                firehose_identity,
                key_policy,
            )
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ],
        Request(
            "firehose puts an encrypted object",
            firehose_arn,
            "s3:PutObject",
            object_key,
            {**TLS, **sse},
            "Allowed",
            firehose_identity,
            archive_policy,
        ),
        Request(
            "firehose assumes its role with the account as external id",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            firehose_arn,
            {"sts:ExternalId": ACCOUNT},
            "Allowed",
            resource_policy=prod.trust(firehose),
        ),
        Request(
            "firehose logs a delivery error",
            firehose_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/kinesisfirehose/serverless-app-prod") + ":log-stream:lambda-api",
            {},
            "Allowed",
            firehose_identity,
        ),
        # CloudWatch Logs ships every group: assume the subscription role, put into the stream.
        Request(
            "CloudWatch Logs assumes the subscription role",
            LOGS,
            "sts:AssumeRole",
            prod.role_arn(subscription),
            {"aws:SourceArn": prod.log_group_arn("/aws/lambda/serverless-app-prod-api"), "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=prod.trust(subscription),
        ),
        *[
            Request(
                f"the subscription role puts into {stream.rsplit('/', 1)[1]}",
                prod.role_arn(subscription),
                "firehose:PutRecordBatch",
                stream,
                {},
                "Allowed",
                prod.identity(subscription),
            )
            for stream in prod.streams()
        ],
        # Lambda: its environment, its dead letters, its logs, its traces.
        Request(
            "Lambda assumes the execution role",
            "lambda.amazonaws.com",
            "sts:AssumeRole",
            executor_arn,
            {},
            "Allowed",
            resource_policy=prod.trust(executor),
        ),
        Request(
            "the function decrypts its environment",
            executor_arn,
            "kms:Decrypt",
            key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": function_arn,
            },
            "Allowed",
            executor_identity,
            key_policy,
        ),
        Request(
            "the function sends a dead letter",
            executor_arn,
            "sqs:SendMessage",
            f"arn:aws:sqs:us-east-1:{ACCOUNT}:serverless-app-prod-api-dead-letters",
            {},
            "Allowed",
            executor_identity,
        ),
        Request(
            "SQS encrypts the dead letter for the function",
            executor_arn,
            "kms:GenerateDataKey",
            key_arn,
            {
                "kms:ViaService": "sqs.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:sqs:arn": dead_letters,
            },
            "Allowed",
            executor_identity,
            key_policy,
        ),
        Request(
            "the function's role encrypts for another queue",
            executor_arn,
            "kms:GenerateDataKey",
            key_arn,
            {
                "kms:ViaService": "sqs.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:sqs:arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:someone-elses-queue",
            },
            "Denied",
            executor_identity,
            key_policy,
        ),
        # A second route group's function: its own environment and log group, nobody else's.
        Request(
            "the admin group's function decrypts its environment",
            admin_arn,
            "kms:Decrypt",
            key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": admin_function_arn,
            },
            "Allowed",
            admin_identity,
            key_policy,
        ),
        Request(
            "the admin group's function decrypts the api group's environment",
            admin_arn,
            "kms:Decrypt",
            key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": function_arn,
            },
            "Denied",
            admin_identity,
            key_policy,
        ),
        Request(
            "the admin group's function writes its log group",
            admin_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-admin") + ":log-stream:2026/11/24/[3]abc",
            {},
            "Allowed",
            admin_identity,
        ),
        Request(
            "the admin group's function writes the api group's log group",
            admin_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-api") + ":log-stream:2026/11/24/[3]abc",
            {},
            "Denied",
            admin_identity,
        ),
        Request(
            "the function writes its log group",
            executor_arn,
            "logs:PutLogEvents",
            prod.log_group_arn("/aws/lambda/serverless-app-prod-api") + ":log-stream:2026/11/24/[7]abc",
            {},
            "Allowed",
            executor_identity,
        ),
        Request(
            "the function sends traces", executor_arn, "xray:PutTraceSegments", "*", {}, "Allowed", executor_identity
        ),
        # API Gateway invokes the live alias, and logs through the account's role (bootstrap stack).
        Request(
            "API Gateway invokes the live alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/v1/POST/events",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=permission,
        ),
        Request(
            "API Gateway invokes the admin route group's live alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            admin_alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/v1/GET/admin/deployment",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=admin_permission,
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
            topic_arn,
            {
                "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:serverless-app-prod-lambda-error-rate",
                "aws:SourceAccount": ACCOUNT,
            },
            "Allowed",
            resource_policy=topic_policy,
        ),
        *[
            Request(
                f"SNS uses the key for CloudWatch ({action})",
                "cloudwatch.amazonaws.com",
                action,
                key_arn,
                {},
                "Allowed",
                resource_policy=key_policy,
            )
            for action in ("kms:GenerateDataKey", "kms:Decrypt")
        ],
        # S3 delivers the archive's server access logs.
        Request(
            "S3 delivers the archive's access logs",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            f"{access_logs_arn}/serverless-app-prod-logs/2026-11-24-13-00-00-ABC",
            {**TLS, "aws:SourceArn": archive_arn, "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=access_logs_policy,
        ),
    ]
    # Releases: CodeDeploy shifts the alias, reads the gating alarms, runs the hook; the hook smoke-tests the version.
    codedeploy, hook = "serverless-app-prod-codedeploy", "serverless-app-prod-release-hook-exec"
    hook_function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:serverless-app-prod-release-hook"
    group_arn = f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:serverless-app-prod/serverless-app-prod-live"
    requests += [
        Request(
            "CodeDeploy assumes its role",
            "codedeploy.amazonaws.com",
            "sts:AssumeRole",
            prod.role_arn(codedeploy),
            {},
            "Allowed",
            resource_policy=prod.trust(codedeploy),
        ),
        Request(
            "CodeDeploy shifts the live alias (Lambda checks the unqualified function ARN)",
            prod.role_arn(codedeploy),
            "lambda:UpdateAlias",
            function_arn,
            {},
            "Allowed",
            prod.identity(codedeploy),
        ),
        Request(
            "CodeDeploy may not touch another function",
            prod.role_arn(codedeploy),
            "lambda:UpdateAlias",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other",
            {},
            "Denied",
            prod.identity(codedeploy),
        ),
        Request(
            "CodeDeploy reads a gating alarm",
            prod.role_arn(codedeploy),
            "cloudwatch:DescribeAlarms",
            f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:serverless-app-prod-api-5xx-rate",
            {},
            "Allowed",
            prod.identity(codedeploy),
        ),
        # The admin route group's release has its own role: its alias only, and no hook.
        Request(
            "CodeDeploy assumes the admin group's release role",
            "codedeploy.amazonaws.com",
            "sts:AssumeRole",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            {},
            "Allowed",
            resource_policy=prod.trust("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "the admin group's release shifts the admin alias",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            "lambda:UpdateAlias",
            admin_function_arn,
            {},
            "Allowed",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "the admin group's release may not shift the api group's alias",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            "lambda:UpdateAlias",
            function_arn,
            {},
            "Denied",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "the admin group's release may not run the api group's hook",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            "lambda:InvokeFunction",
            hook_function,
            {},
            "Denied",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "CodeDeploy runs the pre-traffic hook",
            prod.role_arn(codedeploy),
            "lambda:InvokeFunction",
            hook_function,
            {},
            "Allowed",
            prod.identity(codedeploy),
        ),
        Request(
            "Lambda assumes the hook's role",
            "lambda.amazonaws.com",
            "sts:AssumeRole",
            prod.role_arn(hook),
            {},
            "Allowed",
            resource_policy=prod.trust(hook),
        ),
        Request(
            "the hook invokes the new version",
            prod.role_arn(hook),
            "lambda:InvokeFunction",
            f"{function_arn}:8",
            {},
            "Allowed",
            prod.identity(hook),
        ),
        Request(
            "the hook reads the deployment",
            prod.role_arn(hook),
            "codedeploy:GetDeployment",
            group_arn,
            {},
            "Allowed",
            prod.identity(hook),
        ),
        Request(
            "the hook reports to CodeDeploy (an action without resource-level permission)",
            prod.role_arn(hook),
            "codedeploy:PutLifecycleEventHookExecutionStatus",
            "*",
            {},
            "Allowed",
            prod.identity(hook),
        ),
        Request(
            "the hook decrypts its environment",
            prod.role_arn(hook),
            "kms:Decrypt",
            key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": hook_function,
            },
            "Allowed",
            prod.identity(hook),
            key_policy,
        ),
    ]
    # CloudWatch Logs encrypts each of the stack's groups (the encryption context is the group's ARN).
    requests += [
        Request(
            f"CloudWatch Logs encrypts {group}",
            LOGS,
            "kms:GenerateDataKey",
            key_arn,
            {"kms:EncryptionContext:aws:logs:arn": prod.log_group_arn(group), "aws:SourceAccount": ACCOUNT},
            "Allowed",
            resource_policy=key_policy,
        )
        for group in prod.log_group_names()
    ]
    # Terraform's roles and the S3 backend (the bootstrap stack's bucket, key and deploy roles).
    state = f"serverless-app-tfstate-{ACCOUNT}"
    state_arn, state_policy = bootstrap.bucket(state)
    state_key_arn, state_key_policy = bootstrap.key()
    backend_key = prod.tf["terraform"]["backend"]["s3"]["kms_key_id"]
    apply_role, plan_role = "serverless-app-prod-apply", "serverless-app-prod-plan"
    state_object = f"{state_arn}/serverless-app-prod/terraform.tfstate"
    state_sse = {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": backend_key,
    }
    state_key_context = {
        "kms:ViaService": S3_VIA,
        "kms:CallerAccount": ACCOUNT,
        "kms:EncryptionContext:aws:s3:arn": state_arn,
    }
    github = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    requests += [
        Request(
            "the apply role writes the state object with the state key",
            bootstrap.role_arn(apply_role),
            "s3:PutObject",
            state_object,
            {**TLS, **state_sse},
            "Allowed",
            bootstrap.identity(apply_role),
            state_policy,
        ),
        Request(
            "the apply role takes the lock",
            bootstrap.role_arn(apply_role),
            "s3:PutObject",
            f"{state_object}.tflock",
            {**TLS, **state_sse},
            "Allowed",
            bootstrap.identity(apply_role),
            state_policy,
        ),
        # Plans run with -lock=false: the plan role can neither take a lock nor delete another run's.
        *[
            Request(
                f"the plan role may not {verb} the lock",
                bootstrap.role_arn(plan_role),
                action,
                f"{state_object}.tflock",
                {**TLS, **(state_sse if action == "s3:PutObject" else {})},
                "Denied",
                bootstrap.identity(plan_role),
                state_policy,
            )
            for verb, action in (("take", "s3:PutObject"), ("delete", "s3:DeleteObject"))
        ],
        Request(
            "the apply role encrypts state with the state key through S3",
            bootstrap.role_arn(apply_role),
            "kms:GenerateDataKey",
            state_key_arn,
            state_key_context,
            "Allowed",
            bootstrap.identity(apply_role),
            state_key_policy,
        ),
        *[
            Request(
                f"the {role.rsplit('-', 1)[1]} role decrypts state through S3",
                bootstrap.role_arn(role),
                "kms:Decrypt",
                state_key_arn,
                state_key_context,
                "Allowed",
                bootstrap.identity(role),
                state_key_policy,
            )
            for role in (apply_role, plan_role)
        ],
        Request(
            "the plan role may not write the state",
            bootstrap.role_arn(plan_role),
            "s3:PutObject",
            state_object,
            {**TLS, **state_sse},
            "Denied",
            bootstrap.identity(plan_role),
            state_policy,
        ),
        Request(
            "the apply role creates the Firehose SSE grant (the stack key's policy names it)",
            bootstrap.role_arn(apply_role),
            "kms:CreateGrant",
            key_arn,
            {
                "kms:ViaService": "firehose.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:GrantIsForAWSResource": "true",
                "aws:PrincipalArn": bootstrap.role_arn(apply_role),
            },
            "Allowed",
            bootstrap.identity(apply_role),
            key_policy,
        ),
        *[
            Request(
                f"the apply role may call {action} on the stack key (its key policy names it)",
                bootstrap.role_arn(apply_role),
                action,
                key_arn,
                {"kms:CallerAccount": ACCOUNT, "aws:PrincipalArn": bootstrap.role_arn(apply_role)},
                "Allowed",
                bootstrap.identity(apply_role),
                key_policy,
            )
            for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource")
        ],
        Request(
            "the apply role passes the execution role to Lambda",
            bootstrap.role_arn(apply_role),
            "iam:PassRole",
            executor_arn,
            {"iam:PassedToService": "lambda.amazonaws.com"},
            "Allowed",
            bootstrap.identity(apply_role),
        ),
        Request(
            "the apply role cannot rewrite itself",
            bootstrap.role_arn(apply_role),
            "iam:PutRolePolicy",
            bootstrap.role_arn(apply_role),
            {},
            "Denied",
            bootstrap.identity(apply_role),
        ),
        Request(
            "the prod environment assumes the apply role",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(apply_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:environment:prod",
            },
            "Allowed",
            resource_policy=bootstrap.trust(apply_role),
        ),
    ]
    requests += (
        _refreshes(prod, bootstrap) + _escalations(prod, bootstrap) + api_callers(prod, "") + _archive_reader(prod)
    )
    # The denials that must hold.
    other_role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/intruder"
    requests += [
        *[
            Request(
                f"plain HTTP to {name} ({what})",
                firehose_arn,
                action,
                target,
                {"aws:SecureTransport": "false"},
                "Denied",
                firehose_identity,
                policy,
            )
            for name, arn, policy in (
                ("the archive", archive_arn, archive_policy),
                ("the state bucket", state_arn, state_policy),
            )
            for what, action, target in (("bucket", "s3:ListBucket", arn), ("object", "s3:PutObject", f"{arn}/x"))
        ],
        Request(
            "an upload with another key",
            firehose_arn,
            "s3:PutObject",
            object_key,
            {
                **TLS,
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": ANOTHER_KEY,
            },
            "Denied",
            firehose_identity,
            archive_policy,
        ),
        Request(
            "an upload with SSE-S3 instead of SSE-KMS",
            firehose_arn,
            "s3:PutObject",
            object_key,
            {**TLS, "s3:x-amz-server-side-encryption": "AES256"},
            "Denied",
            firehose_identity,
            archive_policy,
        ),
        Request(
            "the backend sending the key's alias instead of its ARN",
            bootstrap.role_arn(apply_role),
            "s3:PutObject",
            state_object,
            {
                **TLS,
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": "alias/serverless-app-tfstate",
            },
            "Denied",
            bootstrap.identity(apply_role),
            state_policy,
        ),
        Request(
            "another account reads the archive",
            other_role,
            "s3:GetObject",
            object_key,
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
            archive_policy,
        ),
        Request(
            "another account uses the key",
            other_role,
            "kms:Decrypt",
            key_arn,
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
            key_policy,
        ),
        Request(
            "CloudWatch Logs of another account assumes the subscription role",
            LOGS,
            "sts:AssumeRole",
            prod.role_arn(subscription),
            {
                "aws:SourceArn": f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:log-group:x",
                "aws:SourceAccount": OTHER_ACCOUNT,
            },
            "Denied",
            resource_policy=prod.trust(subscription),
        ),
        Request(
            "Firehose for another account assumes the role",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            firehose_arn,
            {"sts:ExternalId": OTHER_ACCOUNT},
            "Denied",
            resource_policy=prod.trust(firehose),
        ),
        Request(
            "another account's alarm publishes to the topic",
            "cloudwatch.amazonaws.com",
            "sns:Publish",
            topic_arn,
            {
                "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{OTHER_ACCOUNT}:alarm:x",
                "aws:SourceAccount": OTHER_ACCOUNT,
            },
            "Denied",
            resource_policy=topic_policy,
        ),
        Request(
            "another API invokes the alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi/v1/POST/events",
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=permission,
        ),
        Request(
            "another API invokes the admin alias",
            "apigateway.amazonaws.com",
            "lambda:InvokeFunction",
            admin_alias_arn,
            {
                "aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:otherapi/v1/GET/admin/deployment",
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=admin_permission,
        ),
        Request(
            "S3 delivers another bucket's logs",
            "logging.s3.amazonaws.com",
            "s3:PutObject",
            f"{access_logs_arn}/x",
            {**TLS, "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket", "aws:SourceAccount": OTHER_ACCOUNT},
            "Denied",
            resource_policy=access_logs_policy,
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
            key_arn,
            {
                "kms:EncryptionContext:aws:logs:arn": prod.log_group_arn("/aws/lambda/someone-else"),
                "aws:SourceAccount": ACCOUNT,
            },
            "Denied",
            resource_policy=key_policy,
        ),
        Request(
            "another repository assumes the plan role",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(plan_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:evil/fork:pull_request",
            },
            "Denied",
            resource_policy=bootstrap.trust(plan_role),
        ),
        Request(
            "a pull request assumes the apply role",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(apply_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:pull_request",
            },
            "Denied",
            resource_policy=bootstrap.trust(apply_role),
        ),
    ]
    return requests


def _invoke(
    name: str, expect: str, principal: str, resource: str, policy: dict, *, identity: bool, context=None
) -> Request:
    allow = [
        {
            "name": "caller",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}],
            },
        }
    ]
    account = principal.split(":")[4]
    return Request(
        name,
        principal,
        "execute-api:Invoke",
        resource,
        {"aws:PrincipalAccount": account, **(context or {})},
        expect,
        allow if identity else [],
        policy,
    )


def api_callers(stack, suffix: str, org: str | None = None) -> list[Request]:
    """SigV4 callers of the signed operation, and a token caller's route, against the REST API's resource policy."""
    arn, policy = stack.api_policy()
    signed, token_route = f"{arn}/v1/POST/internal/events", f"{arn}/v1/POST/events"
    here = f"arn:aws:iam::{ACCOUNT}:role/billing"
    there = f"arn:aws:iam::{OTHER_ACCOUNT}:role/billing"
    requests = [
        _invoke(
            f"a signed caller of this account with execute-api:Invoke{suffix}",
            "Allowed",
            here,
            signed,
            policy,
            identity=True,
        ),
        _invoke(
            f"a signed caller of this account without an identity policy is refused{suffix}",
            "Denied",
            here,
            signed,
            policy,
            identity=False,
        ),
        _invoke(
            f"a signed caller of another account is refused, whatever its own policy{suffix}",
            "Denied",
            there,
            signed,
            policy,
            identity=True,
            context={"aws:PrincipalOrgID": "o-somebodyelse"},
        ),
        # A token's route is open at the IAM layer (the resource policy allows every principal): its authorizer
        # decides who gets in.
        _invoke(
            f"anyone reaches a token-guarded route, for its authorizer to judge{suffix}",
            "Allowed",
            here,
            token_route,
            policy,
            identity=False,
        ),
    ]
    if org:
        requests.append(
            _invoke(
                f"a signed caller of the organization is admitted{suffix}",
                "Allowed",
                there,
                signed,
                policy,
                identity=True,
                context={"aws:PrincipalOrgID": org},
            )
        )
    return requests


# Read calls Terraform's refresh (a plan) makes for each resource type of the prod stack, and the action AWS
# authorizes each as (HeadBucket as s3:ListBucket; GetFunction decrypting the environment via Lambda).
def _refreshes(prod, bootstrap) -> list[Request]:
    archive = f"arn:aws:s3:::serverless-app-prod-logs-{ACCOUNT}"
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:serverless-app-prod-api"
    key_arn, key_policy = prod.key()
    target = f"arn:aws:application-autoscaling:us-east-1:{ACCOUNT}:scalable-target/0123456789abcdef0123"
    reads = [
        ("s3:ListBucket", archive, {}),  # HeadBucket
        ("s3:ListBucket", f"{archive}-access-logs", {}),
        ("s3:GetBucketPolicy", archive, {}),
        ("s3:GetLifecycleConfiguration", archive, {}),
        ("lambda:GetFunction", function, {}),
        ("lambda:GetPolicy", f"{function}:live", {}),
        ("application-autoscaling:DescribeScalableTargets", "*", {}),
        ("application-autoscaling:ListTagsForResource", target, {}),
        (
            "cloudwatch:DescribeAlarms",
            f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:serverless-app-prod-api-5xx-rate",
            {},
        ),
        ("logs:DescribeLogGroups", "*", {}),
        ("firehose:DescribeDeliveryStream", prod.streams()[0], {}),
        ("sqs:GetQueueAttributes", f"arn:aws:sqs:us-east-1:{ACCOUNT}:serverless-app-prod-api-dead-letters", {}),
        ("sns:GetTopicAttributes", prod.topic()[0], {}),
        ("apigateway:GET", "arn:aws:apigateway:us-east-1::/restapis/abc123", {}),
        ("wafv2:GetWebACL", f"arn:aws:wafv2:us-east-1:{ACCOUNT}:regional/webacl/serverless-app-prod/1", {}),
        ("iam:GetRole", prod.role_arn("serverless-app-prod-api-exec"), {}),
        ("iam:GetPolicyVersion", bootstrap.boundary("serverless-app-prod-service-boundary")[0], {}),
        (
            "codedeploy:GetDeploymentGroup",
            f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:serverless-app-prod/serverless-app-prod-live",
            {},
        ),
    ]
    plan_role = "serverless-app-prod-plan"
    requests = [
        Request(
            f"the plan role refreshes: {action} on {resource.rsplit(':', 1)[-1]}",
            bootstrap.role_arn(plan_role),
            action,
            resource,
            {**TLS, **context},
            "Allowed",
            bootstrap.identity(plan_role),
        )
        for action, resource, context in reads
    ]
    # Lambda returns a function's environment decrypted only to a caller that may decrypt it (else the plan would
    # see it empty and want to set it again).
    requests += [
        Request(
            "the plan role reads the function's encrypted environment",
            bootstrap.role_arn(plan_role),
            "kms:Decrypt",
            key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": function,
            },
            "Allowed",
            bootstrap.identity(plan_role),
            key_policy,
        ),
        Request(
            "the plan role may not decrypt anything else with the stack key",
            bootstrap.role_arn(plan_role),
            "kms:Decrypt",
            key_arn,
            {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT},
            "Denied",
            bootstrap.identity(plan_role),
            key_policy,
        ),
        # Application Auto Scaling creates a target-tracking policy's alarms with the caller's rights.
        *[
            Request(
                f"the apply role lets Application Auto Scaling {action.split(':')[1]} its alarm",
                bootstrap.role_arn("serverless-app-prod-apply"),
                action,
                f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:TargetTracking-function:serverless-app-prod-api:live-"
                "AlarmHigh-8d2f0c8e-1b3a-4f7e-9a52-0c1d2e3f4a5b",
                {},
                "Allowed",
                bootstrap.identity("serverless-app-prod-apply"),
            )
            for action in ("cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms")
        ],
        Request(
            "the apply role registers the alias's scalable target",
            bootstrap.role_arn("serverless-app-prod-apply"),
            "application-autoscaling:RegisterScalableTarget",
            target,
            {
                "application-autoscaling:service-namespace": "lambda",
                "application-autoscaling:scalable-dimension": "lambda:function:ProvisionedConcurrency",
            },
            "Allowed",
            bootstrap.identity("serverless-app-prod-apply"),
        ),
        Request(
            "the apply role may not scale another service's target",
            bootstrap.role_arn("serverless-app-prod-apply"),
            "application-autoscaling:RegisterScalableTarget",
            target,
            {
                "application-autoscaling:service-namespace": "dynamodb",
                "application-autoscaling:scalable-dimension": "dynamodb:table:WriteCapacityUnits",
            },
            "Denied",
            bootstrap.identity("serverless-app-prod-apply"),
        ),
    ]
    return requests


# The ways a deploy role could reach beyond its stack, each of which must be denied (and the legitimate neighbour
# of each, allowed, so a denial is not the engine failing to match at all).
def _escalations(prod, bootstrap) -> list[Request]:
    apply_role, plan_role = "serverless-app-prod-apply", "serverless-app-prod-plan"
    apply_arn, apply_identity = bootstrap.role_arn(apply_role), bootstrap.identity(apply_role)
    boundary_arn, _ = bootstrap.boundary("serverless-app-prod-service-boundary")
    service_role = f"arn:aws:iam::{ACCOUNT}:role/serverless-app-prod-new"
    state_key_arn, state_key_policy = bootstrap.key()
    github = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    requests = [
        Request(
            "the apply role creates a service role with the boundary",
            apply_arn,
            "iam:CreateRole",
            service_role,
            {"iam:PermissionsBoundary": boundary_arn},
            "Allowed",
            apply_identity,
        ),
        Request(
            "the apply role may not create a role without the boundary",
            apply_arn,
            "iam:CreateRole",
            service_role,
            {},
            "Denied",
            apply_identity,
        ),
        Request(
            "the apply role may not create a role with another boundary",
            apply_arn,
            "iam:CreateRole",
            service_role,
            {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"},
            "Denied",
            apply_identity,
        ),
        *[
            Request(
                f"the apply role may not {action.split(':')[1]} of a role without the boundary",
                apply_arn,
                action,
                service_role,
                {},
                "Denied",
                apply_identity,
            )
            for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy")
        ],
        Request(
            "the apply role may not remove a role's boundary",
            apply_arn,
            "iam:DeleteRolePermissionsBoundary",
            service_role,
            {"iam:PermissionsBoundary": boundary_arn},
            "Denied",
            apply_identity,
        ),
        Request(
            "the apply role may not change the boundary itself",
            apply_arn,
            "iam:CreatePolicyVersion",
            boundary_arn,
            {},
            "Denied",
            apply_identity,
        ),
        Request(
            "the apply role tags the key it creates",
            apply_arn,
            "kms:TagResource",
            "*",
            {"aws:RequestTag/Environment": "prod", "aws:TagKeys": ["Environment"]},
            "Allowed",
            apply_identity,
        ),
        Request(
            "the apply role may not retag the state key (already tagged Environment=prod)",
            apply_arn,
            "kms:TagResource",
            state_key_arn,
            {"aws:RequestTag/Environment": "prod", "aws:ResourceTag/Environment": "prod", "kms:CallerAccount": ACCOUNT},
            "Denied",
            apply_identity,
            state_key_policy,
        ),
        *[
            Request(
                f"the {role.rsplit('-', 1)[1]} role may not {action} the state key but through S3",
                bootstrap.role_arn(role),
                action,
                state_key_arn,
                {"kms:CallerAccount": ACCOUNT, "aws:ResourceTag/Environment": "prod"},
                "Denied",
                bootstrap.identity(role),
                state_key_policy,
            )
            for role in (apply_role, plan_role)
            for action in ("kms:Decrypt", "kms:PutKeyPolicy", "kms:CreateGrant")
        ],
        Request(
            "a pull request may not assume the prod plan role (it would read prod's state)",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(plan_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:pull_request",
            },
            "Denied",
            resource_policy=bootstrap.trust(plan_role),
        ),
        Request(
            "main assumes the prod plan role",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(plan_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:ref:refs/heads/main",
            },
            "Allowed",
            resource_policy=bootstrap.trust(plan_role),
        ),
        Request(
            "another branch may not assume the prod plan role",
            github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(plan_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:ref:refs/heads/feature",
            },
            "Denied",
            resource_policy=bootstrap.trust(plan_role),
        ),
    ]
    # A role the apply role could create carries the boundary: whatever policy it is given, the boundary caps it.
    admin = [
        {
            "name": "anything",
            "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        }
    ]
    _, boundary = bootstrap.boundary("serverless-app-prod-service-boundary")
    requests += [
        Request(
            f"a bounded role given '*' still may not {what}",
            service_role,
            action,
            resource,
            {},
            "Denied",
            admin,
            boundary=boundary,
        )
        for what, action, resource in (
            ("create a role", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/escalated"),
            ("read another bucket", "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/secret"),
            (
                "read the state",
                "s3:GetObject",
                f"arn:aws:s3:::serverless-app-tfstate-{ACCOUNT}/serverless-app-prod/terraform.tfstate",
            ),
            ("invoke another function", "lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other"),
            ("assume a role", "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/deploy/serverless-app-prod-apply"),
        )
    ]
    return requests


def _archive_reader(prod) -> list[Request]:
    """The archive reader queries in its workgroup: Athena reads the tables from Glue and the lines from S3, and
    writes results, all with the reader's own credentials (Athena has no service principal of its own in these
    requests: S3 and KMS see the reader, called via Athena, then S3). Nothing of it can write the archive."""
    reader = "serverless-app-prod-archive-reader"
    reader_arn, reader_identity = prod.role_arn(reader), prod.identity(reader)
    key_arn, key_policy = prod.key()
    archive = f"serverless-app-prod-logs-{ACCOUNT}"
    archive_arn, archive_policy = prod.bucket(archive)
    results_arn, results_policy = prod.bucket(f"serverless-app-prod-query-results-{ACCOUNT}")
    workgroup = f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/serverless-app-prod-logs"
    glue = f"arn:aws:glue:us-east-1:{ACCOUNT}"
    line = f"{archive_arn}/logs/apigateway/serverless-app-prod/access/2026/12/03/08/object.gz"
    via_athena = {**TLS, "aws:CalledVia": ["athena.amazonaws.com"], "aws:ViaAWSService": "true"}
    sse = {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}

    def kms(bucket_arn: str, via: str = S3_VIA) -> dict:
        return {
            "kms:ViaService": via,
            "kms:CallerAccount": ACCOUNT,
            "kms:EncryptionContext:aws:s3:arn": bucket_arn,
            "aws:CalledVia": ["athena.amazonaws.com"],
        }

    def asks(name: str, action: str, resource: str, context: dict, expect: str, *, policy=None) -> Request:
        return Request(
            f"the archive reader {name}", reader_arn, action, resource, context, expect, reader_identity, policy
        )

    analyst = f"arn:aws:iam::{ACCOUNT}:user/analyst"
    may_assume = [
        {
            "name": "analyst",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": reader_arn}],
            },
        }
    ]
    return [
        Request(
            "an analyst of the account whose policy allows it assumes the archive reader",
            analyst,
            "sts:AssumeRole",
            reader_arn,
            {},
            "Allowed",
            may_assume,
            prod.trust(reader),
        ),
        Request(
            "a principal of another account may not assume the archive reader",
            f"arn:aws:iam::{OTHER_ACCOUNT}:user/analyst",
            "sts:AssumeRole",
            reader_arn,
            {},
            "Denied",
            [{**may_assume[0], "name": "other"}],
            prod.trust(reader),
            resource_account=ACCOUNT,
        ),
        asks("starts a query in its workgroup", "athena:StartQueryExecution", workgroup, {}, "Allowed"),
        asks("reads a query's results", "athena:GetQueryResults", workgroup, {}, "Allowed"),
        asks("reads a saved query", "athena:GetNamedQuery", workgroup, {}, "Allowed"),
        asks(
            "may not query in another workgroup",
            "athena:StartQueryExecution",
            f"arn:aws:athena:us-east-1:{ACCOUNT}:workgroup/primary",
            {},
            "Denied",
        ),
        asks(
            "may not change the workgroup (its cutoff, its encryption)",
            "athena:UpdateWorkGroup",
            workgroup,
            {},
            "Denied",
        ),
        asks("may not change a saved query", "athena:UpdateNamedQuery", workgroup, {}, "Denied"),
        asks("reads a table", "glue:GetTable", f"{glue}:table/serverless_app_prod_logs/api_access", {}, "Allowed"),
        asks("reads the database", "glue:GetDatabase", f"{glue}:database/serverless_app_prod_logs", {}, "Allowed"),
        *[
            asks(
                f"may not {action.split(':')[1]}",
                action,
                f"{glue}:table/serverless_app_prod_logs/api_access",
                {},
                "Denied",
            )
            for action in ("glue:UpdateTable", "glue:DeleteTable", "glue:CreateTable")
        ],
        asks("may not read another database's tables", "glue:GetTable", f"{glue}:table/finance/ledger", {}, "Denied"),
        asks(
            "reads an archived line through Athena", "s3:GetObject", line, via_athena, "Allowed", policy=archive_policy
        ),
        asks(
            "lists the archive's log prefixes",
            "s3:ListBucket",
            archive_arn,
            {**via_athena, "s3:prefix": "logs/apigateway/serverless-app-prod/access/2026/12/03/08/"},
            "Allowed",
            policy=archive_policy,
        ),
        asks(
            "may not list the whole archive",
            "s3:ListBucket",
            archive_arn,
            {**via_athena, "s3:prefix": ""},
            "Denied",
            policy=archive_policy,
        ),
        asks(
            "may not read the delivery errors outside logs/",
            "s3:GetObject",
            f"{archive_arn}/errors/lambda/serverless-app-prod-api/object.gz",
            via_athena,
            "Denied",
            policy=archive_policy,
        ),
        *[
            asks(
                f"may not {action.split(':')[1]} in the archive", action, line, context, "Denied", policy=archive_policy
            )
            for action, context in (
                ("s3:PutObject", {**TLS, **sse}),
                ("s3:DeleteObject", TLS),
                ("s3:DeleteObjectVersion", TLS),
            )
        ],
        asks(
            "writes a query result, encrypted with the stack's key",
            "s3:PutObject",
            f"{results_arn}/results/0b1c.csv",
            {**via_athena, **sse},
            "Allowed",
            policy=results_policy,
        ),
        asks(
            "may not write a result encrypted another way",
            "s3:PutObject",
            f"{results_arn}/results/0b1c.csv",
            {**via_athena, "s3:x-amz-server-side-encryption": "AES256"},
            "Denied",
            policy=results_policy,
        ),
        asks(
            "decrypts archived lines through S3", "kms:Decrypt", key_arn, kms(archive_arn), "Allowed", policy=key_policy
        ),
        asks(
            "encrypts results through S3",
            "kms:GenerateDataKey",
            key_arn,
            kms(results_arn),
            "Allowed",
            policy=key_policy,
        ),
        asks(
            "may not decrypt with the key directly",
            "kms:Decrypt",
            key_arn,
            {"kms:CallerAccount": ACCOUNT, "kms:EncryptionContext:aws:s3:arn": archive_arn},
            "Denied",
            policy=key_policy,
        ),
        asks(
            "may not decrypt another bucket's objects through S3",
            "kms:Decrypt",
            key_arn,
            kms(f"arn:aws:s3:::serverless-app-tfstate-{ACCOUNT}"),
            "Denied",
            policy=key_policy,
        ),
        asks(
            "may not read the state",
            "s3:GetObject",
            f"arn:aws:s3:::serverless-app-tfstate-{ACCOUNT}/serverless-app-prod/terraform.tfstate",
            TLS,
            "Denied",
        ),
    ]


@pytest.fixture(scope="module")
def table(prod, bootstrap) -> tuple[list[Request], dict[str, dict]]:
    # Every service role of the stack carries the environment's boundary: its requests are evaluated with it.
    _, boundary = bootstrap.boundary("serverless-app-prod-service-boundary")
    roles = prod.role_arns()
    requests = [
        replace(r, boundary=boundary) if r.principal in roles and r.boundary is None else r
        for r in _requests(prod, bootstrap)
    ]
    names = [r.name for r in requests]
    assert len(names) == len(set(names)), "request names must be unique"
    return requests, evaluate(requests)


def test_every_request_aws_makes_gets_the_decision_it_must(table, record_property):
    requests, results = table
    wrong = [
        explain(r, results[r.name])
        for r in requests
        if not (results[r.name].get("decision") or "").startswith(
            "Allowed" if r.expect == "Allowed" else ("ExplicitlyDenied", "ImplicitlyDenied")
        )
    ]
    allowed = sum(r.expect == "Allowed" for r in requests)
    record_property(
        "summary",
        f"request simulation: {allowed} allowed and {len(requests) - allowed} denied as "
        "required (@cloud-copilot/iam-simulate, encryption-context patch applied)",
    )
    assert not wrong, "\n\n".join(wrong)


def test_no_context_key_of_any_request_was_dropped_by_the_engine(table):
    requests, results = table
    dropped = {
        r.name: results[r.name]["ignoredContextKeys"] for r in requests if results[r.name].get("ignoredContextKeys")
    }
    assert not dropped, dropped


def test_the_table_covers_every_log_group_stream_and_role_of_the_stack(table, prod):
    requests, _ = table
    text = " ".join(f"{r.principal} {r.resource} {r.context}" for r in requests)
    for group in prod.log_group_names():
        assert prod.log_group_arn(group) in text, group
    for stream in prod.streams():
        assert stream in text, stream
    for role in prod.all("aws_iam_role").values():
        assert prod.resolve(role["name"]) in text, role["name"]


def test_the_organization_admits_its_signed_callers_and_nobody_else(prod_with_organization):
    requests = api_callers(prod_with_organization, " (organization)", org="o-a1b2c3d4e5")
    results = evaluate(requests)
    wrong = [
        explain(r, results[r.name])
        for r in requests
        if not (results[r.name].get("decision") or "").startswith(
            "Allowed" if r.expect == "Allowed" else ("ExplicitlyDenied", "ImplicitlyDenied")
        )
    ]
    assert not wrong, "\n\n".join(wrong)


@pytest.fixture(scope="module")
def prod_with_organization():
    import cdktf
    from conftest import Stack
    from stack_helpers import DEPLOYED

    from stacks import environments
    from stacks.service import ServiceStack

    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/33333333-3333-4333-8333-333333333333"
    config = environments.load({**DEPLOYED, "AWS_ACCOUNT_ID_PROD": ACCOUNT, "TF_STATE_KMS_KEY_ARN_PROD": key})["prod"]
    config = replace(config, api=replace(config.api, iam_principal_org_id="o-a1b2c3d4e5"))
    return Stack(json.loads(cdktf.Testing.synth(ServiceStack(cdktf.Testing.app(), config.stack_name, config=config))))
