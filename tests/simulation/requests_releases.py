"""Requests of a release: CodeDeploy and the pre-traffic hook."""

from __future__ import annotations

from conftest import ACCOUNT, Request
from requests_context import Names


def releases(prod, n: Names) -> list[Request]:
    """CodeDeploy shifts the alias, reads the gating alarms, runs the hook; the hook smoke-tests the version."""
    # Releases: CodeDeploy shifts the alias, reads the gating alarms, runs the hook; the hook smoke-tests the version.
    requests = [
        Request(
            "CodeDeploy assumes its role",
            "codedeploy.amazonaws.com",
            "sts:AssumeRole",
            prod.role_arn(n.codedeploy),
            {},
            "Allowed",
            resource_policy=prod.trust(n.codedeploy),
        ),
        Request(
            "CodeDeploy shifts the live alias (Lambda checks the unqualified function ARN)",
            prod.role_arn(n.codedeploy),
            "lambda:UpdateAlias",
            n.function_arn,
            {},
            "Allowed",
            prod.identity(n.codedeploy),
        ),
        Request(
            "CodeDeploy may not touch another function",
            prod.role_arn(n.codedeploy),
            "lambda:UpdateAlias",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:other",
            {},
            "Denied",
            prod.identity(n.codedeploy),
        ),
        Request(
            "CodeDeploy reads a gating alarm",
            prod.role_arn(n.codedeploy),
            "cloudwatch:DescribeAlarms",
            f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:serverless-app-prod-api-5xx-rate",
            {},
            "Allowed",
            prod.identity(n.codedeploy),
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
            n.admin_function_arn,
            {},
            "Allowed",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "the admin group's release may not shift the api group's alias",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            "lambda:UpdateAlias",
            n.function_arn,
            {},
            "Denied",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "the admin group's release may not run the api group's hook",
            prod.role_arn("serverless-app-prod-admin-codedeploy"),
            "lambda:InvokeFunction",
            n.hook_function,
            {},
            "Denied",
            prod.identity("serverless-app-prod-admin-codedeploy"),
        ),
        Request(
            "CodeDeploy runs the pre-traffic hook",
            prod.role_arn(n.codedeploy),
            "lambda:InvokeFunction",
            n.hook_function,
            {},
            "Allowed",
            prod.identity(n.codedeploy),
        ),
        Request(
            "Lambda assumes the hook's role",
            "lambda.amazonaws.com",
            "sts:AssumeRole",
            prod.role_arn(n.hook),
            {},
            "Allowed",
            resource_policy=prod.trust(n.hook),
        ),
        Request(
            "the hook invokes the new version",
            prod.role_arn(n.hook),
            "lambda:InvokeFunction",
            f"{n.function_arn}:8",
            {},
            "Allowed",
            prod.identity(n.hook),
        ),
        Request(
            "the hook reads the deployment",
            prod.role_arn(n.hook),
            "codedeploy:GetDeployment",
            n.group_arn,
            {},
            "Allowed",
            prod.identity(n.hook),
        ),
        Request(
            "the hook reports to CodeDeploy (an action without resource-level permission)",
            prod.role_arn(n.hook),
            "codedeploy:PutLifecycleEventHookExecutionStatus",
            "*",
            {},
            "Allowed",
            prod.identity(n.hook),
        ),
        Request(
            "the hook decrypts its environment",
            prod.role_arn(n.hook),
            "kms:Decrypt",
            n.key_arn,
            {
                "kms:ViaService": "lambda.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:aws:lambda:FunctionArn": n.hook_function,
            },
            "Allowed",
            prod.identity(n.hook),
            n.key_policy,
        ),
    ]
    return requests
