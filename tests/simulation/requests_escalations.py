"""What the apply role may and may not do to IAM: create service roles only with the boundary, never escalate."""

from __future__ import annotations

from conftest import ACCOUNT, REPOSITORY, Request


# The ways a deploy role could reach beyond its stack, each of which must be denied (and the legitimate neighbour
# of each, allowed, so a denial is not the engine failing to match at all).
def escalations(prod, bootstrap) -> list[Request]:
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
