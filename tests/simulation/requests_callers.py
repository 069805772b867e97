"""Requests of the API's callers (SigV4 and token routes against the resource policy) and of the archive reader."""

from __future__ import annotations

from conftest import ACCOUNT, Request
from requests_context import OTHER_ACCOUNT, S3_VIA, TLS


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


def archive_reader(prod) -> list[Request]:
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
