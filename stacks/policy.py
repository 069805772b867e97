"""Synth-time policy: walks every stack's resolved Terraform tree and refuses to synthesize an unsafe one.

Runs before anything is written, so a violation leaves no ``cdktf.out`` stack behind. Each violation
names the resource's construct path and the rule. The rules restate, as checks, the safeguards the
modules hard-wire, so that an escape-hatch override or a hand-written resource cannot drop one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cdktf import App, TerraformStack

from modules.aws_provider import REGION
from modules.validation import ConfigError

# Groups that cannot be shipped: Firehose's own delivery errors (through the same Firehose a failure would loop),
# and the one test line API Gateway writes when an account's logging role is set (created by the bootstrap stack,
# which has no archive; encrypted and retained like every other group).
UNSHIPPED_LOG_GROUP_PREFIXES = ("/aws/kinesisfirehose/", "/aws/apigateway/welcome")
# AWS's name limits of every named resource the stacks create: (attribute, characters).
NAME_LIMITS = {
    "aws_s3_bucket": ("bucket", 63),
    "aws_iam_role": ("name", 64),
    "aws_iam_role_policy": ("name", 128),
    "aws_kinesis_firehose_delivery_stream": ("name", 64),
    "aws_lambda_function": ("function_name", 64),
    "aws_sqs_queue": ("name", 80),
    "aws_sns_topic": ("name", 256),
    "aws_cloudwatch_metric_alarm": ("alarm_name", 255),
    "aws_cloudwatch_dashboard": ("dashboard_name", 255),
    "aws_cloudwatch_log_group": ("name", 512),
    "aws_cloudwatch_log_stream": ("name", 512),
    "aws_cloudwatch_log_metric_filter": ("name", 512),
    "aws_cloudwatch_log_resource_policy": ("policy_name", 255),
    "aws_kms_alias": ("name", 256),
    "aws_wafv2_web_acl": ("name", 128),
    "aws_api_gateway_rest_api": ("name", 1024),
    "aws_api_gateway_usage_plan": ("name", 255),
    "aws_appautoscaling_policy": ("name", 256),
    "aws_appautoscaling_scheduled_action": ("name", 256),
    "aws_codedeploy_app": ("name", 100),
    "aws_codedeploy_deployment_group": ("deployment_group_name", 100),
}
# What a reference resolves to, at most, when it is part of a name.
TOKEN_LENGTHS = {"account_id": 12, "partition": 10, "id": 10}
# Resources whose state holds a secret in plain text (every role that plans reads the state, and saved plans carry
# it): attribute, and the condition under which it is a secret (None: always).
SECRET_IN_STATE = {
    "aws_api_gateway_api_key": ("value", None),
    "aws_api_gateway_usage_plan_key": ("value", None),
    "aws_iam_access_key": ("secret", None),
    "aws_secretsmanager_secret_version": ("secret_string", None),
    "aws_ssm_parameter": ("value", ("type", "SecureString")),
    "aws_cognito_user_pool_client": ("client_secret", ("generate_secret", True)),
    "random_password": ("result", None),
    "tls_private_key": ("private_key_pem", None),
}
BROAD_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess")
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_cloudwatch_log_resource_policy": "policy_document",
}


class PolicyError(ConfigError):
    """One or more resources break the project's security policy."""


@dataclass(frozen=True)
class Violation:
    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


def enforce(app: App) -> None:
    """Raise ``PolicyError`` listing every violation in every stack of ``app``.

    A stack may carry ``policy_exemptions`` (rule id -> reason) from its environment's config; each is
    printed on every synth so that a relaxed rule is never silent.
    """
    violations = []
    for stack in stacks(app):
        exemptions = getattr(stack, "policy_exemptions", {})
        for rule, reason in exemptions.items():
            # A notice, not an error: on stdout, so the cdktf CLI does not print it as [ERROR].
            print(f"policy: {stack.node.id} is exempt from {rule!r}: {reason}")
        violations += check(stack.to_terraform(), exemptions=frozenset(exemptions))
    if violations:
        raise PolicyError("security policy violated:\n  " + "\n  ".join(map(str, violations)))


def stacks(app: App) -> list[TerraformStack]:
    return [node for node in app.node.children if isinstance(node, TerraformStack)]


def check(tf: dict, exemptions: frozenset[str] = frozenset()) -> list[Violation]:
    """All violations in one synthesized stack (the dict that becomes ``cdk.tf.json``)."""
    resources = tf.get("resource", {})
    return [
        *_providers(tf),
        *_buckets(
            resources,
            tls_on_objects="tls-deny-on-objects" not in exemptions,
            lifecycle="lifecycle-rules" not in exemptions,
        ),
        *_keys(resources, rotation="key-rotation" not in exemptions),
        *_name_lengths(resources),
        *_functions(resources, dead_letters="dead-letter-queue" not in exemptions),
        *_log_groups(resources),
        *_iam(resources, boundary="role-boundary" not in exemptions),
        *_secrets(tf),
        *_api_policies(resources, required="api-resource-policy" not in exemptions),
    ]


def _path(resource: dict, fallback: str) -> str:
    return resource.get("//", {}).get("metadata", {}).get("path", fallback)


def _each(resources: dict, type_: str) -> Iterator[tuple[str, dict]]:
    yield from resources.get(type_, {}).items()


def _providers(tf: dict) -> Iterator[Violation]:
    for index, provider in enumerate(tf.get("provider", {}).get("aws", [])):
        region = provider.get("region")
        if region != REGION:
            alias = provider.get("alias", f"aws[{index}]")
            yield Violation(f"provider.aws.{alias}", f"region {region!r} is not {REGION!r} (the project's only region)")


def _refs(type_: str, name: str) -> set[str]:
    return {f"${{{type_}.{name}.{attribute}}}" for attribute in ("id", "bucket", "name", "arn")}


def _by_target(resources: dict, type_: str, attribute: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for _, resource in _each(resources, type_):
        found.setdefault(str(resource.get(attribute)), []).append(resource)
    return found


def _first(items: list | dict | None) -> dict:
    if isinstance(items, list):
        return items[0] if items else {}
    return items or {}


def _buckets(resources: dict, tls_on_objects: bool, lifecycle: bool) -> Iterator[Violation]:
    versioning = _by_target(resources, "aws_s3_bucket_versioning", "bucket")
    encryption = _by_target(resources, "aws_s3_bucket_server_side_encryption_configuration", "bucket")
    blocks = _by_target(resources, "aws_s3_bucket_public_access_block", "bucket")
    ownership = _by_target(resources, "aws_s3_bucket_ownership_controls", "bucket")
    policies = _by_target(resources, "aws_s3_bucket_policy", "bucket")
    lifecycles = _by_target(resources, "aws_s3_bucket_lifecycle_configuration", "bucket")
    for name, bucket in _each(resources, "aws_s3_bucket"):
        refs = _refs("aws_s3_bucket", name)
        path = _path(bucket, f"aws_s3_bucket.{name}")

        def attached(index: dict[str, list[dict]], refs: set[str] = refs) -> list[dict]:
            return [item for ref in refs for item in index.get(ref, [])]

        if not any(_first(v.get("versioning_configuration")).get("status") == "Enabled" for v in attached(versioning)):
            yield Violation(path, "S3 bucket without versioning 'Enabled'")
        algorithms = {
            _first(_first(e.get("rule")).get("apply_server_side_encryption_by_default")).get("sse_algorithm")
            for e in attached(encryption)
        }
        if not algorithms & {"aws:kms", "aws:kms:dsse", "AES256"}:
            yield Violation(path, "S3 bucket without default server-side encryption (SSE-KMS or SSE-S3)")
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        if not any(all(b.get(flag) is True for flag in flags) for b in attached(blocks)):
            yield Violation(path, "S3 bucket without a public access block that sets all four flags")
        if not any(_first(o.get("rule")).get("object_ownership") == "BucketOwnerEnforced" for o in attached(ownership)):
            yield Violation(path, "S3 bucket without BucketOwnerEnforced object ownership")
        if lifecycle and not attached(lifecycles):
            yield Violation(path, "S3 bucket without lifecycle rules (objects and old versions would be kept forever)")
        arn = f"${{aws_s3_bucket.{name}.arn}}"
        if not any(_denies_insecure_transport(p.get("policy"), arn, tls_on_objects) for p in attached(policies)):
            yield Violation(path, "S3 bucket without a policy denying non-TLS requests to the bucket and its objects")


def _keys(resources: dict, rotation: bool) -> Iterator[Violation]:
    for name, key in _each(resources, "aws_kms_key"):
        if rotation and key.get("enable_key_rotation") is not True:
            yield Violation(
                _path(key, f"aws_kms_key.{name}"), "KMS key without automatic rotation (enable_key_rotation)"
            )


def _longest(value: str) -> int:
    """The most characters ``value`` can have once Terraform resolves its references."""
    length = len(re.sub(r"\$\{[^}]*\}", "", value))
    for reference in re.findall(r"\$\{([^}]*)\}", value):
        attribute = reference.rsplit(".", 1)[-1]
        length += TOKEN_LENGTHS.get(attribute, len(reference) + 3)
    return length


def _name_lengths(resources: dict) -> Iterator[Violation]:
    for type_, (attribute, limit) in NAME_LIMITS.items():
        for name, resource in _each(resources, type_):
            value = resource.get(attribute)
            if isinstance(value, str) and _longest(value) > limit:
                yield Violation(
                    _path(resource, f"{type_}.{name}"),
                    f"{attribute} {value!r} can be {_longest(value)} characters; AWS allows {limit}",
                )


def _statements(document: object) -> list[dict]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _denies_insecure_transport(document: object, arn: str, on_objects: bool) -> bool:
    required = {arn, f"{arn}/*"} if on_objects else {arn}
    for statement in _statements(document):
        condition = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
        resources = set(_as_list(statement.get("Resource")))
        if (
            statement.get("Effect") == "Deny"
            and str(condition).lower() == "false"
            and required <= resources
            and "s3:*" in _as_list(statement.get("Action"))
        ):
            return True
    return False


def _functions(resources: dict, dead_letters: bool) -> Iterator[Violation]:
    for name, function in _each(resources, "aws_lambda_function"):
        path = _path(function, f"aws_lambda_function.{name}")
        if _first(function.get("tracing_config")).get("mode") != "Active":
            yield Violation(path, "Lambda function without active X-Ray tracing")
        if dead_letters and not _first(function.get("dead_letter_config")).get("target_arn"):
            yield Violation(path, "Lambda function without a dead-letter queue (failed async events would be lost)")


def _log_groups(resources: dict) -> Iterator[Violation]:
    subscribed = _by_target(resources, "aws_cloudwatch_log_subscription_filter", "log_group_name")
    for name, group in _each(resources, "aws_cloudwatch_log_group"):
        path = _path(group, f"aws_cloudwatch_log_group.{name}")
        if not group.get("retention_in_days"):
            yield Violation(path, "log group without retention_in_days (logs would be kept forever)")
        if not group.get("kms_key_id"):
            yield Violation(path, "log group without a KMS key (kms_key_id)")
        if str(group.get("name", "")).startswith(UNSHIPPED_LOG_GROUP_PREFIXES):
            continue
        if not any(ref in subscribed for ref in _refs("aws_cloudwatch_log_group", name)):
            yield Violation(path, "log group without a subscription filter: its lines would never reach the archive")


def _api_policies(resources: dict, required: bool) -> Iterator[Violation]:
    """A REST API whose methods are signed needs a resource policy: without one, any account's principal whose own
    policy allows execute-api:Invoke may call them."""
    if not required:
        return
    policies = _by_target(resources, "aws_api_gateway_rest_api_policy", "rest_api_id")
    signed = {
        m.get("rest_api_id")
        for _, m in _each(resources, "aws_api_gateway_method")
        if m.get("authorization") == "AWS_IAM"
    }
    for name, api in _each(resources, "aws_api_gateway_rest_api"):
        reference = f"${{aws_api_gateway_rest_api.{name}.id}}"
        if reference in signed and reference not in policies:
            yield Violation(
                _path(api, f"aws_api_gateway_rest_api.{name}"), "REST API with signed methods and no resource policy"
            )


def _secrets(tf: dict) -> Iterator[Violation]:
    resources = tf.get("resource", {})
    for type_, (attribute, when) in SECRET_IN_STATE.items():
        for name, resource in _each(resources, type_):
            if when is None or resource.get(when[0]) == when[1]:
                yield Violation(
                    _path(resource, f"{type_}.{name}"),
                    f"keeps a secret ({attribute}) in the Terraform state, which every plan reads: issue credentials "
                    "with tools/clients.py (make client) instead",
                )
    for name, output in tf.get("output", {}).items():
        if output.get("sensitive"):
            yield Violation(
                f"output.{name}", "a sensitive output is kept in the Terraform state, which every plan reads"
            )


def _iam(resources: dict, boundary: bool) -> Iterator[Violation]:
    if boundary:
        for name, role in _each(resources, "aws_iam_role"):
            if not role.get("permissions_boundary"):
                yield Violation(
                    _path(role, f"aws_iam_role.{name}"),
                    "IAM role without a permissions boundary (AccountContext(role_boundary=...)): the CI apply role "
                    "may create roles only with one",
                )
    for type_, attribute in POLICY_ATTRIBUTES.items():
        for name, resource in _each(resources, type_):
            yield from _broad_actions(_path(resource, f"{type_}.{name}"), resource.get(attribute))
    for name, role in _each(resources, "aws_iam_role"):
        for inline in _as_list(role.get("inline_policy") or []):
            yield from _broad_actions(_path(role, f"aws_iam_role.{name}"), inline.get("policy"))
    for name, attachment in _each(resources, "aws_iam_role_policy_attachment"):
        arn = str(attachment.get("policy_arn", ""))
        if arn.rsplit("/", 1)[-1] in BROAD_MANAGED_POLICIES:
            yield Violation(_path(attachment, name), f"attaches the broad managed policy {arn}")


def _broad_actions(path: str, document: object) -> Iterator[Violation]:
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        for broad in ("*", "s3:*"):
            if broad in actions:
                yield Violation(path, f"IAM policy allows {broad!r} (statement {statement.get('Sid', '?')!r})")
        if "NotAction" in statement:
            yield Violation(path, f"IAM policy allows by NotAction (statement {statement.get('Sid', '?')!r})")
