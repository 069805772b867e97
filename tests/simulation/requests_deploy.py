"""Requests of the deploy roles: the state backend, assuming the roles from GitHub, and a plan's refresh."""

from __future__ import annotations

from conftest import ACCOUNT, REPOSITORY, Request
from requests_context import TLS, Names


def backend(prod, bootstrap, n: Names) -> list[Request]:
    """Terraform's roles and the S3 backend (the bootstrap stack's bucket, key and deploy roles)."""
    # Terraform's roles and the S3 backend (the bootstrap stack's bucket, key and deploy roles).
    requests = [
        Request(
            "the apply role writes the state object with the state key",
            bootstrap.role_arn(n.apply_role),
            "s3:PutObject",
            n.state_object,
            {**TLS, **n.state_sse},
            "Allowed",
            bootstrap.identity(n.apply_role),
            n.state_policy,
        ),
        Request(
            "the apply role takes the lock",
            bootstrap.role_arn(n.apply_role),
            "s3:PutObject",
            f"{n.state_object}.tflock",
            {**TLS, **n.state_sse},
            "Allowed",
            bootstrap.identity(n.apply_role),
            n.state_policy,
        ),
        # Plans run with -lock=false: the plan role can neither take a lock nor delete another run's.
        *[
            Request(
                f"the plan role may not {verb} the lock",
                bootstrap.role_arn(n.plan_role),
                action,
                f"{n.state_object}.tflock",
                {**TLS, **(n.state_sse if action == "s3:PutObject" else {})},
                "Denied",
                bootstrap.identity(n.plan_role),
                n.state_policy,
            )
            for verb, action in (("take", "s3:PutObject"), ("delete", "s3:DeleteObject"))
        ],
        Request(
            "the apply role encrypts state with the state key through S3",
            bootstrap.role_arn(n.apply_role),
            "kms:GenerateDataKey",
            n.state_key_arn,
            n.state_key_context,
            "Allowed",
            bootstrap.identity(n.apply_role),
            n.state_key_policy,
        ),
        *[
            Request(
                f"the {role.rsplit('-', 1)[1]} role decrypts state through S3",
                bootstrap.role_arn(role),
                "kms:Decrypt",
                n.state_key_arn,
                n.state_key_context,
                "Allowed",
                bootstrap.identity(role),
                n.state_key_policy,
            )
            for role in (n.apply_role, n.plan_role)
        ],
        Request(
            "the plan role may not write the state",
            bootstrap.role_arn(n.plan_role),
            "s3:PutObject",
            n.state_object,
            {**TLS, **n.state_sse},
            "Denied",
            bootstrap.identity(n.plan_role),
            n.state_policy,
        ),
        Request(
            "the apply role creates the Firehose SSE grant (the stack key's policy names it)",
            bootstrap.role_arn(n.apply_role),
            "kms:CreateGrant",
            n.key_arn,
            {
                "kms:ViaService": "firehose.us-east-1.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:GrantIsForAWSResource": "true",
                "aws:PrincipalArn": bootstrap.role_arn(n.apply_role),
            },
            "Allowed",
            bootstrap.identity(n.apply_role),
            n.key_policy,
        ),
        *[
            Request(
                f"the apply role may call {action} on the stack key (its key policy names it)",
                bootstrap.role_arn(n.apply_role),
                action,
                n.key_arn,
                {"kms:CallerAccount": ACCOUNT, "aws:PrincipalArn": bootstrap.role_arn(n.apply_role)},
                "Allowed",
                bootstrap.identity(n.apply_role),
                n.key_policy,
            )
            for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource")
        ],
        Request(
            "the apply role passes the execution role to Lambda",
            bootstrap.role_arn(n.apply_role),
            "iam:PassRole",
            n.executor_arn,
            {"iam:PassedToService": "lambda.amazonaws.com"},
            "Allowed",
            bootstrap.identity(n.apply_role),
        ),
        Request(
            "the apply role cannot rewrite itself",
            bootstrap.role_arn(n.apply_role),
            "iam:PutRolePolicy",
            bootstrap.role_arn(n.apply_role),
            {},
            "Denied",
            bootstrap.identity(n.apply_role),
        ),
        Request(
            "the prod environment assumes the apply role",
            n.github,
            "sts:AssumeRoleWithWebIdentity",
            bootstrap.role_arn(n.apply_role),
            {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{REPOSITORY}:environment:prod",
            },
            "Allowed",
            resource_policy=bootstrap.trust(n.apply_role),
        ),
    ]
    return requests


# Read calls Terraform's refresh (a plan) makes for each resource type of the prod stack, and the action AWS
# authorizes each as (HeadBucket as s3:ListBucket; GetFunction decrypting the environment via Lambda).
def refreshes(prod, bootstrap) -> list[Request]:
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
