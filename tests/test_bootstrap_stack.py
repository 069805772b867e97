"""The bootstrap stack: the state bucket and its key, with every safeguard and local state."""

import pytest
from stack_helpers import one, ref, resources, statements


def _state_bucket(bootstrap):
    return next(
        (name, b)
        for name, b in resources(bootstrap, "aws_s3_bucket").items()
        if b["bucket"] == "serverless-app-tfstate"
    )


def test_bootstrap_keeps_local_state(bootstrap):
    assert "local" in bootstrap["terraform"]["backend"]
    assert bootstrap["terraform"]["backend"]["local"]["path"].endswith("serverless-app-bootstrap-local.tfstate")


def test_state_bucket_is_versioned_encrypted_private_and_protected(bootstrap):
    name, bucket = _state_bucket(bootstrap)
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert bucket.get("force_destroy") is False
    bucket_id = ref("aws_s3_bucket", name)
    versioning = [v for v in resources(bootstrap, "aws_s3_bucket_versioning").values() if v["bucket"] == bucket_id]
    assert versioning[0]["versioning_configuration"]["status"] == "Enabled"
    (encryption,) = [
        e
        for e in resources(bootstrap, "aws_s3_bucket_server_side_encryption_configuration").values()
        if e["bucket"] == bucket_id
    ]
    rule = encryption["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    key_name = next(iter(resources(bootstrap, "aws_kms_key")))
    assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")
    (block,) = [
        b for b in resources(bootstrap, "aws_s3_bucket_public_access_block").values() if b["bucket"] == bucket_id
    ]
    assert all(
        block[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_state_key_rotates(bootstrap):
    key = one(bootstrap, "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["lifecycle"]["prevent_destroy"] is True


def test_state_bucket_policy_is_tls_only(bootstrap):
    name, _ = _state_bucket(bootstrap)
    (policy,) = [
        p for p in resources(bootstrap, "aws_s3_bucket_policy").values() if p["bucket"] == ref("aws_s3_bucket", name)
    ]
    deny = statements(policy)["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The default bootstrap targets the emulator, whose object-level denies are relaxed (see test_policy).
    assert ref("aws_s3_bucket", name, "arn") in deny["Resource"]


@pytest.mark.slow
def test_bootstrap_for_prod_denies_non_tls_on_objects_too(tmp_path):
    from stack_helpers import synthesize

    synth = synthesize(tmp_path / "out", {"BOOTSTRAP_ENV": "prod"})
    bootstrap = synth.stack("bootstrap")
    assert "endpoints" not in bootstrap["provider"]["aws"][0]
    name, _ = _state_bucket(bootstrap)
    arn = ref("aws_s3_bucket", name, "arn")
    (policy,) = [
        p for p in resources(bootstrap, "aws_s3_bucket_policy").values() if p["bucket"] == ref("aws_s3_bucket", name)
    ]
    assert set(statements(policy)["DenyInsecureTransport"]["Resource"]) == {arn, f"{arn}/*"}
    assert bootstrap["terraform"]["backend"]["local"]["path"].endswith("serverless-app-bootstrap-prod.tfstate")
