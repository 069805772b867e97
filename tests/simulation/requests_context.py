"""What the request tables share: the prod and bootstrap stacks' names, ARNs and policies, resolved once, and the
context values AWS sends."""

from __future__ import annotations

from dataclasses import dataclass

from conftest import ACCOUNT

OTHER_ACCOUNT = "999988887777"
ANOTHER_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
LOGS = "logs.us-east-1.amazonaws.com"
S3_VIA = "s3.us-east-1.amazonaws.com"
TLS = {"aws:SecureTransport": "true"}


@dataclass(frozen=True)
class Names:
    """The prod stack's key, buckets, roles, functions and their policies, and the bootstrap's state bucket, key and
    deploy roles, as the synthesized JSON resolves them for one account."""

    key_arn: str
    key_policy: dict
    archive: str
    archive_arn: str
    archive_policy: dict
    access_logs_arn: str
    access_logs_policy: dict
    firehose: str
    firehose_arn: str
    firehose_identity: list
    subscription: str
    executor: str
    executor_arn: str
    executor_identity: list
    function_arn: str
    admin: str
    admin_arn: str
    admin_identity: list
    admin_function_arn: str
    dead_letters: str
    topic_arn: str
    topic_policy: dict
    alias_arn: str
    permission: dict
    admin_alias_arn: str
    admin_permission: dict
    api_id: str
    object_key: str
    sse: dict
    bucket_key_context: dict
    codedeploy: str
    hook: str
    hook_function: str
    group_arn: str
    state: str
    state_arn: str
    state_policy: dict
    state_key_arn: str
    state_key_policy: dict
    backend_key: str
    apply_role: str
    plan_role: str
    state_object: str
    state_sse: dict
    state_key_context: dict
    github: str
    other_role: str


def names(prod, bootstrap) -> Names:
    """Every shared name of ``prod`` and ``bootstrap`` (the suite's resolved stacks)."""
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
    codedeploy, hook = "serverless-app-prod-codedeploy", "serverless-app-prod-release-hook-exec"
    hook_function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:serverless-app-prod-release-hook"
    group_arn = f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:serverless-app-prod/serverless-app-prod-live"
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
    other_role = f"arn:aws:iam::{OTHER_ACCOUNT}:role/intruder"
    return Names(
        key_arn=key_arn,
        key_policy=key_policy,
        archive=archive,
        archive_arn=archive_arn,
        archive_policy=archive_policy,
        access_logs_arn=access_logs_arn,
        access_logs_policy=access_logs_policy,
        firehose=firehose,
        firehose_arn=firehose_arn,
        firehose_identity=firehose_identity,
        subscription=subscription,
        executor=executor,
        executor_arn=executor_arn,
        executor_identity=executor_identity,
        function_arn=function_arn,
        admin=admin,
        admin_arn=admin_arn,
        admin_identity=admin_identity,
        admin_function_arn=admin_function_arn,
        dead_letters=dead_letters,
        topic_arn=topic_arn,
        topic_policy=topic_policy,
        alias_arn=alias_arn,
        permission=permission,
        admin_alias_arn=admin_alias_arn,
        admin_permission=admin_permission,
        api_id=api_id,
        object_key=object_key,
        sse=sse,
        bucket_key_context=bucket_key_context,
        codedeploy=codedeploy,
        hook=hook,
        hook_function=hook_function,
        group_arn=group_arn,
        state=state,
        state_arn=state_arn,
        state_policy=state_policy,
        state_key_arn=state_key_arn,
        state_key_policy=state_key_policy,
        backend_key=backend_key,
        apply_role=apply_role,
        plan_role=plan_role,
        state_object=state_object,
        state_sse=state_sse,
        state_key_context=state_key_context,
        github=github,
        other_role=other_role,
    )
