"""The synth-time policy fires on deliberately broken stacks, naming the resource path, and passes ours."""

import json

import pytest
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

from modules.account import AccountContext
from modules.aws_provider import ProviderConfig, RegionLockedProvider
from modules.encryption_key import EncryptionKey, EncryptionKeyConfig
from modules.secure_bucket import SecureBucket, SecureBucketConfig
from stacks import environments, policy

TAGS = {"Project": "p"}


def _stack() -> tuple[App, TerraformStack]:
    app = App(outdir="/nonexistent-never-written")
    stack = TerraformStack(app, "broken")
    RegionLockedProvider(stack, "provider", config=ProviderConfig(default_tags=TAGS))
    return app, stack


def _violations(stack: TerraformStack, exemptions=frozenset()) -> list[str]:
    return [str(v) for v in policy.check(stack.to_terraform(), exemptions)]


def test_our_stacks_have_no_violations(synth, record_property):
    for name, tf in synth.stacks.items():
        emulator = name.endswith(("-local", "-bootstrap"))
        exempt = (
            frozenset(
                {"tls-deny-on-objects", "lifecycle-rules", "dead-letter-queue", "key-rotation", "api-resource-policy"}
            )
            if emulator
            else frozenset()
        )
        if name.endswith("-bootstrap"):
            exempt |= {"role-boundary"}
        assert policy.check(tf, exempt) == [], name
    record_property(
        "summary",
        f"synth policy: 0 violations in {len(synth.stacks)} stacks "
        "(rules: buckets, keys, log groups, IAM wildcards, role boundaries, secrets in state, region)",
    )


def test_a_hardened_bucket_passes_and_a_bare_one_fails_every_bucket_rule():
    _, stack = _stack()
    SecureBucket(stack, "good", config=SecureBucketConfig(name="good-bucket"), account=AccountContext(stack, "acct"))
    S3Bucket(stack, "bare", bucket="bare-bucket")
    violations = _violations(stack)
    assert all(v.startswith("broken/bare:") for v in violations), violations
    assert {v.split(": ", 1)[1] for v in violations} == {
        "S3 bucket without versioning 'Enabled'",
        "S3 bucket without default server-side encryption (SSE-KMS or SSE-S3)",
        "S3 bucket without a public access block that sets all four flags",
        "S3 bucket without BucketOwnerEnforced object ownership",
        "S3 bucket without a policy denying non-TLS requests to the bucket and its objects",
        "S3 bucket without lifecycle rules (objects and old versions would be kept forever)",
    }


def test_tls_deny_on_the_bucket_arn_only_fails_unless_exempt():
    _, stack = _stack()
    SecureBucket(
        stack,
        "relaxed",
        config=SecureBucketConfig(name="relaxed-bucket", object_level_denies=False),
        account=AccountContext(stack, "acct"),
    )
    assert any("non-TLS" in v for v in _violations(stack))
    assert not any("non-TLS" in v for v in _violations(stack, frozenset({"tls-deny-on-objects"})))


def test_a_key_without_rotation_fails_unless_exempt():
    _, stack = _stack()
    EncryptionKey(
        stack,
        "key",
        config=EncryptionKeyConfig(alias="static", enable_key_rotation=False),
        account=AccountContext(stack, "acct"),
    )
    assert _violations(stack) == ["broken/key/key: KMS key without automatic rotation (enable_key_rotation)"]
    assert _violations(stack, frozenset({"key-rotation"})) == []


def test_the_emulator_says_which_rules_it_is_exempt_from():
    local = environments.load({})["local"]
    assert set(local.policy_exemptions) == {
        "tls-deny-on-objects",
        "dead-letter-queue",
        "key-rotation",
        "lifecycle-rules",
        "api-resource-policy",
        "resource-server",
        "domain-dns",
    }
    assert all(environments.load({})[name].policy_exemptions == {} for name in ("dev", "prod"))


def test_log_group_without_retention_kms_or_subscription_fails():
    _, stack = _stack()
    CloudwatchLogGroup(stack, "naked", name="/app/naked")
    assert sorted(v.split(": ", 1)[1] for v in _violations(stack)) == [
        "log group without a KMS key (kms_key_id)",
        "log group without a subscription filter: its lines would never reach the archive",
        "log group without retention_in_days (logs would be kept forever)",
    ]


@pytest.mark.parametrize("action", ["*", "s3:*", ["logs:PutLogEvents", "*"]])
def test_iam_policy_allowing_wildcards_fails(action):
    _, stack = _stack()
    IamPolicy(
        stack,
        "too_broad",
        name="too-broad",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "Wide", "Effect": "Allow", "Action": action, "Resource": "*"}],
            }
        ),
    )
    (violation,) = _violations(stack)
    assert violation.startswith("broken/too_broad: IAM policy allows")


def test_deny_with_wildcards_is_fine_and_broad_managed_policies_fail():
    _, stack = _stack()
    IamPolicy(
        stack,
        "deny",
        name="deny",
        policy=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    IamRolePolicyAttachment(stack, "admin", role="r", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert _violations(stack) == [
        "broken/admin: attaches the broad managed policy arn:aws:iam::aws:policy/AdministratorAccess"
    ]


def test_enforce_raises_before_synth_writes_anything(tmp_path):
    app = App(outdir=str(tmp_path / "out"))
    stack = TerraformStack(app, "broken")
    RegionLockedProvider(stack, "provider", config=ProviderConfig(default_tags=TAGS))
    S3Bucket(stack, "bare", bucket="bare-bucket")
    with pytest.raises(policy.PolicyError, match="broken/bare: S3 bucket without versioning"):
        policy.enforce(app)
    assert not list((tmp_path / "out").rglob("*.json"))
