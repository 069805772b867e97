"""The evaluation engine itself: the patch for ``kms:EncryptionContext:<key>`` checked against AWS's documented
examples, the hole it closes shown on the unpatched engine, and the defects this suite exists for shown caught."""

from __future__ import annotations

import copy
import json
import subprocess

from conftest import ACCOUNT, HERE, Request, evaluate
from stack_helpers import PROJECT_DIR

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/example"
ROOT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _identity(action: str, condition: dict) -> list[dict]:
    return [
        {
            "name": "p",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Conditional", "Effect": "Allow", "Action": action, "Resource": "*", "Condition": condition}
                ],
            },
        }
    ]


def _decisions(requests: list[Request]) -> dict[str, str]:
    return {name: result.get("decision") or result.get("error") for name, result in evaluate(requests).items()}


def test_encryption_context_conditions_from_the_kms_developer_guide():
    # KMS guide, "kms:EncryptionContext:context-key": AppName=ExampleApp allows, any other value or none does not.
    condition = {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
    requests = [
        Request(
            "matching",
            ROLE,
            "kms:Decrypt",
            KEY,
            {"kms:EncryptionContext:AppName": "ExampleApp"},
            "Allowed",
            _identity("kms:Decrypt", condition),
            ROOT,
        ),
        Request(
            "other value",
            ROLE,
            "kms:Decrypt",
            KEY,
            {"kms:EncryptionContext:AppName": "Other"},
            "Denied",
            _identity("kms:Decrypt", condition),
            ROOT,
        ),
        Request("no context", ROLE, "kms:Decrypt", KEY, {}, "Denied", _identity("kms:Decrypt", condition), ROOT),
    ]
    assert _decisions(requests) == {
        "matching": "Allowed",
        "other value": "ImplicitlyDenied",
        "no context": "ImplicitlyDenied",
    }


def test_the_s3_bucket_key_context_is_the_bucket_arn():
    # S3 guide, "Changes to note before enabling an S3 Bucket Key": with bucket keys the context is the bucket ARN,
    # so a condition on the object ARN (the round-1 Firehose statement) denies every delivery.
    context = {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b"}
    bucket = {"StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b"}}
    objects = {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b/*"}}
    requests = [
        Request(
            "bucket condition",
            ROLE,
            "kms:GenerateDataKey",
            KEY,
            context,
            "Allowed",
            _identity("kms:GenerateDataKey", bucket),
            ROOT,
        ),
        Request(
            "object condition",
            ROLE,
            "kms:GenerateDataKey",
            KEY,
            context,
            "Denied",
            _identity("kms:GenerateDataKey", objects),
            ROOT,
        ),
    ]
    assert _decisions(requests) == {"bucket condition": "Allowed", "object condition": "ImplicitlyDenied"}


def test_the_cloudwatch_logs_and_lambda_contexts():
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f"
    logs = {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group}}
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
    requests = [
        Request(
            "logs group",
            ROLE,
            "kms:Encrypt",
            KEY,
            {"kms:EncryptionContext:aws:logs:arn": group},
            "Allowed",
            _identity("kms:Encrypt", logs),
            ROOT,
        ),
        # What Lambda sends at cold start, against the round-1 condition (the console helpers' context).
        Request(
            "lambda old condition",
            ROLE,
            "kms:Decrypt",
            KEY,
            {"kms:EncryptionContext:aws:lambda:FunctionArn": function},
            "Denied",
            _identity("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:LambdaFunctionName": "f"}}),
            ROOT,
        ),
        Request(
            "lambda function arn",
            ROLE,
            "kms:Decrypt",
            KEY,
            {"kms:EncryptionContext:aws:lambda:FunctionArn": function},
            "Allowed",
            _identity("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:aws:lambda:FunctionArn": function}}),
            ROOT,
        ),
    ]
    assert _decisions(requests) == {
        "logs group": "Allowed",
        "lambda old condition": "ImplicitlyDenied",
        "lambda function arn": "Allowed",
    }


def test_a_key_policy_without_the_account_statement_denies_what_iam_allows():
    # KMS is the exception to IAM-alone: the key policy must let the account's IAM policies grant access.
    allow_all = [
        {
            "name": "p",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
            },
        }
    ]
    services_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    }
    requests = [
        Request("no delegation", ROLE, "kms:Decrypt", KEY, {}, "Denied", allow_all, services_only),
        Request("delegation", ROLE, "kms:Decrypt", KEY, {}, "Allowed", allow_all, ROOT),
    ]
    assert _decisions(requests) == {"no delegation": "ImplicitlyDenied", "delegation": "Allowed"}


def test_without_the_patch_the_engine_drops_encryption_context_values():
    request = Request(
        "unpatched",
        ROLE,
        "kms:Decrypt",
        KEY,
        {"kms:EncryptionContext:AppName": "ExampleApp"},
        "Allowed",
        _identity("kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}),
        ROOT,
    )
    payload = json.dumps([{"name": request.name, "simulation": request.simulation()}])
    result = subprocess.run(
        ["node", str(HERE / "evaluate.cjs")], input=payload, capture_output=True, text=True, cwd=PROJECT_DIR, check=True
    )
    (unpatched,) = json.loads(result.stdout)["results"]
    assert unpatched["decision"] == "ImplicitlyDenied"
    assert unpatched["ignoredContextKeys"] == ["kms:EncryptionContext:AppName"]


def test_the_round_one_firehose_statement_would_be_caught(prod):
    # The synthesized key policy with its Firehose statement put back to the object-ARN condition: denied.
    key_arn, key_policy = prod.key()
    old = copy.deepcopy(key_policy)
    statement = next(s for s in old["Statement"] if s.get("Sid") == "FirehoseWritesTheArchive")
    bucket_arn = statement["Condition"]["StringEquals"].pop("kms:EncryptionContext:aws:s3:arn")
    statement["Condition"]["StringLike"] = {"kms:EncryptionContext:aws:s3:arn": f"{bucket_arn}/*"}
    firehose = prod.role_arn("serverless-app-prod-firehose")
    context = {
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
        "kms:EncryptionContext:aws:s3:arn": bucket_arn,
    }
    requests = [
        Request(name, firehose, "kms:GenerateDataKey", key_arn, context, "Allowed", [], policy)
        for name, policy in (("fixed", key_policy), ("round one", old))
    ]
    assert _decisions(requests) == {"fixed": "Allowed", "round one": "ImplicitlyDenied"}
