"""The hardened bucket, built alone in a bare stack: versioned, KMS-encrypted,
private, TLS-only, access-logged into its own bucket, kept from destroy; and its config refused when unsafe."""

from __future__ import annotations

import json

import cdktf
import pytest

from modules.account import AccountContext
from modules.secure_bucket import SecureBucket, SecureBucketConfig


def _synth(config: SecureBucketConfig) -> dict:
    stack = cdktf.TerraformStack(cdktf.Testing.app(), "team")
    SecureBucket(stack, "bucket", config=config, account=AccountContext(stack, "account"))
    return json.loads(cdktf.Testing.synth(stack))


def _of(tf: dict, type_: str) -> list[dict]:
    return list(tf["resource"].get(type_, {}).values())


def test_a_bucket_and_its_access_log_bucket_are_versioned_encrypted_private_and_kept():
    tf = _synth(SecureBucketConfig(name="reports"))
    buckets = _of(tf, "aws_s3_bucket")
    assert len(buckets) == 2  # the bucket and the bucket of its server access logs
    # Named after the account (bucket names are global), the log bucket after the bucket.
    assert sorted(b["bucket"].rsplit("}", 1)[1] for b in buckets) == ["", "-access-logs"]
    assert all(b["bucket"].startswith("reports-${data.aws_caller_identity.") for b in buckets)
    assert all(b["lifecycle"]["prevent_destroy"] is True and b["force_destroy"] is False for b in buckets)
    assert [v["versioning_configuration"]["status"] for v in _of(tf, "aws_s3_bucket_versioning")] == ["Enabled"] * 2
    for block in _of(tf, "aws_s3_bucket_public_access_block"):
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        assert all(block[flag] is True for flag in flags)
    for ownership in _of(tf, "aws_s3_bucket_ownership_controls"):
        assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    (logging,) = _of(tf, "aws_s3_bucket_logging")
    assert logging["target_bucket"].startswith("${aws_s3_bucket.bucket_access_logs_bucket")
    for policy in _of(tf, "aws_s3_bucket_policy"):
        statements = json.loads(policy["policy"])["Statement"]
        tls = [s for s in statements if s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s)]
        assert tls, "every bucket refuses plain HTTP"
        # On a real account the deny covers the objects too.
        assert any(
            str(r).endswith("/*")
            for s in tls
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        )


def test_objects_that_expire_are_not_moved_to_infrequent_access_first():
    tf = _synth(SecureBucketConfig(name="results", expiration_days=7))
    (configuration,) = [c for c in _of(tf, "aws_s3_bucket_lifecycle_configuration") if "access_logs" not in c["bucket"]]
    expiring = [r for r in configuration["rule"] if r.get("expiration")]
    assert expiring and all(e["days"] == 7 for r in expiring for e in r["expiration"])
    assert not any(r.get("transition") for r in configuration["rule"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Not_A_Bucket"}, r"bucket.name='Not_A_Bucket' is invalid"),
        ({"force_destroy": True}, r"bucket.force_destroy"),
        ({"transition_to_infrequent_access_days": 10}, r"bucket.transition_to_infrequent_access_days=10 is invalid"),
        ({"noncurrent_version_expiration_days": 0}, r"bucket.noncurrent_version_expiration_days=0 is invalid"),
        ({"expiration_days": 0}, r"bucket.expiration_days=0 is invalid"),
        ({"object_level_denies": "no"}, r"bucket.object_level_denies='no' is invalid"),
    ],
)
def test_unsafe_or_impossible_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        SecureBucketConfig(**{"name": "reports", **changes})
