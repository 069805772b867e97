"""The log archive bucket and its access-log bucket: every safeguard, protected in prod only."""

import pytest
from stack_helpers import ref, resources, statements

from modules.secure_bucket import SecureBucketConfig


def _account(tf) -> str:
    (caller,) = tf["data"]["aws_caller_identity"]
    return f"-${{data.aws_caller_identity.{caller}.account_id}}"


def _bucket(tf, name, suffix=""):
    """The bucket named ``<name>-<account id><suffix>`` (S3 names are global, so every name carries the account)."""
    wanted = name + _account(tf) + suffix
    return next((key, b) for key, b in resources(tf, "aws_s3_bucket").items() if b["bucket"] == wanted)


def _attached(tf, type_, bucket_key):
    return [r for r in resources(tf, type_).values() if r["bucket"] == ref("aws_s3_bucket", bucket_key)]


def test_archive_is_versioned_kms_encrypted_with_bucket_keys(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs")
    (versioning,) = _attached(prod, "aws_s3_bucket_versioning", key)
    assert versioning["versioning_configuration"]["status"] == "Enabled"
    (encryption,) = _attached(prod, "aws_s3_bucket_server_side_encryption_configuration", key)
    rule = encryption["rule"][0]
    assert rule["bucket_key_enabled"] is True
    kms_key = next(iter(resources(prod, "aws_kms_key")))
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": ref("aws_kms_key", kms_key, "arn"),
    }


def test_archive_blocks_public_access_and_enforces_ownership(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs")
    (block,) = _attached(prod, "aws_s3_bucket_public_access_block", key)
    assert [
        block[f] for f in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    ] == [True] * 4
    (ownership,) = _attached(prod, "aws_s3_bucket_ownership_controls", key)
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_archive_policy_denies_non_tls_on_bucket_and_objects_and_foreign_encryption(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs")
    arn = ref("aws_s3_bucket", key, "arn")
    (policy,) = _attached(prod, "aws_s3_bucket_policy", key)
    policy = statements(policy)
    tls = policy["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Action"] == "s3:*"
    assert set(tls["Resource"]) == {arn, f"{arn}/*"}
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert policy["DenyUploadsNotUsingKms"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    kms_key = next(iter(resources(prod, "aws_kms_key")))
    assert policy["DenyUploadsWithAnotherKey"]["Condition"] == {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": ref("aws_kms_key", kms_key, "arn")
        }
    }


def test_archive_lifecycle_tiers_expires_old_versions_and_aborts_uploads(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs")
    (lifecycle,) = _attached(prod, "aws_s3_bucket_lifecycle_configuration", key)
    (rule,) = lifecycle["rule"]
    assert rule["status"] == "Enabled"
    assert rule["transition"] == [{"days": 30, "storage_class": "STANDARD_IA"}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 365}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    # The archive is the audit record: current objects are kept; only a delete marker whose versions all expired
    # is removed (it would otherwise stay forever, one per deleted object).
    assert rule["expiration"] == [{"expired_object_delete_marker": True}]


def test_access_logs_expire_instead_of_growing_forever(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs", "-access-logs")
    (lifecycle,) = _attached(prod, "aws_s3_bucket_lifecycle_configuration", key)
    (rule,) = lifecycle["rule"]
    assert rule["expiration"] == [{"days": 365}]


def test_local_skips_lifecycle_rules_visibly(local):
    # The one difference, stated in environments.py and printed as a policy exemption at every synth.
    assert not resources(local, "aws_s3_bucket_lifecycle_configuration")


def test_archive_logs_access_to_a_separate_sse_s3_bucket_with_the_same_safeguards(prod):
    key, _ = _bucket(prod, "serverless-app-prod-logs")
    target_key, _ = _bucket(prod, "serverless-app-prod-logs", "-access-logs")
    (logging,) = _attached(prod, "aws_s3_bucket_logging", key)
    assert logging["target_bucket"] == ref("aws_s3_bucket", target_key)
    (encryption,) = _attached(prod, "aws_s3_bucket_server_side_encryption_configuration", target_key)
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    assert _attached(prod, "aws_s3_bucket_versioning", target_key)[0]["versioning_configuration"]["status"] == "Enabled"
    assert _attached(prod, "aws_s3_bucket_public_access_block", target_key)
    policy = statements(_attached(prod, "aws_s3_bucket_policy", target_key)[0])
    delivery = policy["AllowServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == ref("aws_s3_bucket", key, "arn")
    assert "DenyInsecureTransport" in policy


def test_prod_archive_cannot_be_destroyed_but_dev_can(prod, dev):
    archives = [b for b in resources(prod, "aws_s3_bucket").values() if "prod-logs" in b["bucket"]]
    assert len(archives) == 2
    for bucket in archives:
        assert bucket["lifecycle"]["prevent_destroy"] is True and bucket["force_destroy"] is False
    _, bucket = _bucket(dev, "serverless-app-dev-logs")
    assert bucket["force_destroy"] is True and bucket["lifecycle"]["prevent_destroy"] is False


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "Has_Upper"}, "bucket.name='Has_Upper' is invalid"),
        ({"name": "ab"}, "bucket.name='ab' is invalid"),
        (
            {"name": "x" * 39},
            r"bucket.name='x{39}' is invalid: allowed at most 38 characters, so that its access-log "
            r"bucket 'x{39}-<account id>-access-logs' fits S3's 63",
        ),
        ({"name": "xn--punycode"}, "bucket.name='xn--punycode' is invalid"),
        ({"force_destroy": True, "prevent_destroy": True}, "bucket.force_destroy=True is invalid"),
        (
            {"transition_to_infrequent_access_days": 10},
            "transition_to_infrequent_access_days=10 is invalid: allowed 30",
        ),
        ({"noncurrent_version_expiration_days": 0}, "noncurrent_version_expiration_days=0 is invalid"),
        ({"abort_incomplete_multipart_upload_days": 1.5}, "abort_incomplete_multipart_upload_days=1.5 is invalid"),
    ],
)
def test_bucket_config_errors(values, message):
    with pytest.raises(ValueError, match=message):
        SecureBucketConfig(**{"name": "valid-name", **values})
